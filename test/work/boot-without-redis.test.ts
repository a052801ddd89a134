import '../support/harness.js';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { Controller, type OnModuleDestroy } from '@nestjs/common';
import { attachmentEntities, AttachmentWork } from '../../src/index.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { Photo } from '../support/entities.js';
import { png } from '../support/fixtures.js';
import { startHarness, waitFor, type Harness } from '../support/harness.js';
import { freePort, RedisServer } from '../support/processes.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { ShutdownProcess, type ShutdownStage } from '../support/shutdown-child.js';
import { StepGate } from '../support/step-gate.js';
import { within } from '../support/within.js';

describe('starting while Redis is down', () => {
  let db: TestDatabase;
  let redis: RedisServer | undefined;
  const printed: unknown[] = [];
  const consoleError = console.error;

  before(async () => {
    db = await createTestDatabase('postgres', [Photo, ...attachmentEntities]);
    // Traces that bypass the logger, as BullMQ prints errors nobody listens to.
    console.error = (...args: unknown[]) => printed.push(args);
  });

  after(async () => {
    console.error = consoleError;
    await redis?.kill();
    await db?.close();
  });

  it('boots web and worker, saves in bounded time, and runs the work once Redis is up', async () => {
    const port = await freePort();
    const logger = new RecordingLogger();
    const harness: Harness = await within(
      20_000,
      startHarness({
        dataSource: db.dataSource,
        connection: { host: '127.0.0.1', port },
        logger,
        relay: { interval: 200, after: 200 },
        sweepInterval: 60_000,
      }),
      'the app start',
    );
    try {
      let attempts = 0;
      harness.queue.on('error', () => attempts++);
      await waitFor(async () => attempts >= 2, 'two reconnection attempts', 30_000);

      const photos = db.dataSource.getRepository(Photo);
      const photo = photos.create({ title: 'saved during the outage' });
      await harness.attachments.attach(photo, 'image', png(5, 5), { filename: 'o.png' });
      await within(10_000, photos.save(photo), 'the save');
      assert.equal((await photos.findOneByOrFail({ id: photo.id })).image?.storage, 'cache');

      const outage = logger.warnings.filter((line) => /unreachable/.test(line));
      assert.equal(outage.length, 1, `one warning for the outage: ${logger.warnings.join('\n')}`);
      assert.match(outage[0]!, new RegExp(`127\\.0\\.0\\.1:${port}`));
      assert.deepEqual(logger.errors, []);
      assert.deepEqual(printed, [], 'nothing printed around the logger');

      redis = new RedisServer(port);
      await redis.start();
      await waitFor(
        async () => (await photos.findOneByOrFail({ id: photo.id })).image?.storage === 'store',
        'the promotion once Redis is up',
      );
      await waitFor(
        async () => (await db.dataSource.getRepository(AttachmentWork).count()) === 0,
        'the outbox to empty',
      );
      assert.ok(logger.logs.some((line) => /reachable again/.test(line)));
      // The sweep is scheduled once Redis answers.
      await waitFor(
        async () => (await harness.queue.getJobSchedulers()).length === 1,
        'the sweep schedule',
      );
    } finally {
      await harness.close();
    }
  });
});

describe('shutting down while Redis is down', () => {
  let db: TestDatabase;
  let redis: RedisServer;

  before(async () => {
    db = await createTestDatabase('postgres', [Photo, ...attachmentEntities]);
    redis = new RedisServer(await freePort());
    await redis.start();
  });

  after(async () => {
    await redis?.kill();
    await db?.close();
  });

  const outageNoticed = (logger: RecordingLogger) =>
    logger.warnings.some((line) => /unreachable/.test(line));

  it('closes the app with its worker, as on SIGTERM during an outage', async () => {
    await redis.start();
    const logger = new RecordingLogger();
    const harness = await startHarness({
      dataSource: db.dataSource,
      connection: { host: '127.0.0.1', port: redis.port },
      logger,
    });
    await harness.queue.waitUntilReady();
    await redis.kill();
    await waitFor(async () => outageNoticed(logger), 'the outage to be noticed');
    // Closing waits for nothing Redis would have to answer: the process can exit.
    await within(20_000, harness.app.close(), 'the shutdown');
    await rm(harness.directory, { recursive: true, force: true });
  });

  it('closes the app when Redis dies during the shutdown, while a job runs', async () => {
    await redis.start();
    const logger = new RecordingLogger();
    const promotion = new StepGate();
    promotion.close('promote:before-write');
    // The app's module is the root, so this hears of the shutdown before the attachments
    // module: Redis dies after app.close() was called and before the module could notice,
    // and the job goes on only then, so that its end has to wait for Redis.
    @Controller()
    class OutageAtShutdown implements OnModuleDestroy {
      async onModuleDestroy(): Promise<void> {
        await redis.kill();
        promotion.open();
      }
    }
    const harness = await startHarness({
      dataSource: db.dataSource,
      connection: { host: '127.0.0.1', port: redis.port },
      logger,
      jobHooks: { onStep: promotion.pass },
      controllers: [OutageAtShutdown],
    });
    const photos = db.dataSource.getRepository(Photo);
    const photo = photos.create({ title: 'promoted during the shutdown' });
    await harness.attachments.attach(photo, 'image', png(5, 5), { filename: 's.png' });
    await photos.save(photo);
    await promotion.reached(1);
    assert.equal(outageNoticed(logger), false, 'Redis answers until the shutdown');

    await within(20_000, harness.app.close(), 'the shutdown');
    assert.ok(outageNoticed(logger), 'the outage was noticed during the shutdown');
    await rm(harness.directory, { recursive: true, force: true });
  });

  /** A process of the app on this test's Redis and database. */
  const appProcess = (holdShutdown?: ShutdownStage, web?: Harness) =>
    new ShutdownProcess({
      databaseUrl: db.url!,
      queuePrefix: web?.queue.opts.prefix ?? `test${randomBytes(4).toString('hex')}`,
      redis: { url: redis.url },
      holdShutdown,
      ...(web ? { files: { directory: web.directory, holdJob: true } } : {}),
    });

  it('a process stopped by SIGTERM during an outage exits by itself', async () => {
    await redis.start();
    const app = appProcess();
    try {
      await app.ready();
      await redis.kill();
      await app.line(/^WARN .*unreachable/);
      app.terminate();
      assert.deepEqual(await app.waitForExit(), { code: 0, signal: null });
      assert.deepEqual(
        app.lines.filter((line) => line.startsWith('ERROR')),
        [],
      );
    } finally {
      await app.kill();
    }
  });

  for (const [stage, moment] of [
    ['destroy', 'before its worker closes'],
    ['before-shutdown', 'between the close of its worker and that of its queue'],
  ] as const) {
    it(`a process whose Redis dies during its shutdown, ${moment}, exits by itself`, async () => {
      await redis.start();
      const app = appProcess(stage);
      try {
        await app.ready();
        app.terminate();
        await app.reached(stage);
        await redis.kill();
        app.release();
        assert.deepEqual(await app.waitForExit(), { code: 0, signal: null });
      } finally {
        await app.kill();
      }
    });
  }

  it('a process whose Redis dies during its shutdown while a job runs exits by itself', async () => {
    await redis.start();
    const web = await startHarness({
      dataSource: db.dataSource,
      connection: { host: '127.0.0.1', port: redis.port },
      worker: false,
    });
    const app = appProcess('destroy', web);
    try {
      await app.ready();
      const photos = db.dataSource.getRepository(Photo);
      const photo = photos.create({ title: 'promoted by the stopped process' });
      await web.attachments.attach(photo, 'image', png(5, 5), { filename: 'p.png' });
      await photos.save(photo);
      await app.line(/^JOB HELD$/);
      app.terminate();
      await app.reached('destroy');
      await redis.kill();
      // The job goes on now: its end, and the worker's close, wait for Redis.
      app.release();
      assert.deepEqual(await app.waitForExit(), { code: 0, signal: null });
    } finally {
      await app.kill();
      await within(20_000, web.close(), 'the close of the web app');
    }
  });
});
