import '../support/harness.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { attachmentEntities, AttachmentWork } from '../../src/index.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { Photo } from '../support/entities.js';
import { png } from '../support/fixtures.js';
import { startHarness, waitFor, type Harness } from '../support/harness.js';
import { freePort, RedisServer } from '../support/processes.js';
import { RecordingLogger } from '../support/recording-logger.js';
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
