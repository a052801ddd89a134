import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Cluster, Redis } from 'ioredis';
import { AttachmentWork, attachmentEntities } from '../../src/index.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { Photo } from '../support/entities.js';
import { png } from '../support/fixtures.js';
import {
  referencedFiles,
  startHarness,
  storedFiles,
  waitFor,
  waitForIdle,
  type Harness,
  type HarnessOptions,
} from '../support/harness.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { RedisCluster, RedisSentinel } from '../support/redis-topologies.js';
import { ShutdownProcess, type ShutdownStage } from '../support/shutdown-child.js';
import { within } from '../support/within.js';

const tagged = () => `{test${randomBytes(4).toString('hex')}}`;

async function storageOf(db: TestDatabase, id: number): Promise<string | undefined> {
  return (await db.dataSource.getRepository(Photo).findOneByOrFail({ id })).image?.storage;
}

/** Every stored file is one a record names, and every named file is stored. */
async function assertNothingOrphaned(harness: Harness, db: TestDatabase): Promise<void> {
  assert.deepEqual(
    await storedFiles(harness.storages),
    await referencedFiles(db.dataSource, [{ entity: Photo, properties: ['image'] }]),
  );
}

/** Save, promote, replace (the old file deleted), remove (the file deleted), over `harness`. */
async function runLifecycle(harness: Harness, db: TestDatabase): Promise<void> {
  const photos = db.dataSource.getRepository(Photo);
  const photo = photos.create({ title: 'first' });
  await harness.attachments.attach(photo, 'image', png(5, 5), { filename: 'first.png' });
  await photos.save(photo);
  await waitFor(async () => (await storageOf(db, photo.id)) === 'store', 'the promotion');
  const first = (await photos.findOneByOrFail({ id: photo.id })).image!;

  const stored = await photos.findOneByOrFail({ id: photo.id });
  await harness.attachments.attach(stored, 'image', png(6, 6), { filename: 'second.png' });
  await photos.save(stored);
  await waitFor(async () => {
    const image = (await photos.findOneByOrFail({ id: photo.id })).image;
    return image?.storage === 'store' && image.id !== first.id;
  }, 'the promotion of the replacement');
  await waitForIdle(harness, db.dataSource);
  assert.equal(await harness.storages.store!.stat(first.id), null, 'the replaced file is deleted');
  await assertNothingOrphaned(harness, db);

  await photos.remove(await photos.findOneByOrFail({ id: photo.id }));
  await waitForIdle(harness, db.dataSource);
  assert.deepEqual(await storedFiles(harness.storages), [], 'the removed record left no file');
}

describe('on a three-node Redis Cluster', () => {
  let cluster: RedisCluster;
  let db: TestDatabase;

  before(async () => {
    cluster = await RedisCluster.start();
    db = await createTestDatabase('postgres', [Photo, ...attachmentEntities]);
  });

  after(async () => {
    await db?.close();
    await cluster?.remove();
  });

  const onCluster = (options: Partial<HarnessOptions> = {}) =>
    startHarness({
      dataSource: db.dataSource,
      connection: { cluster: { nodes: cluster.startupNodes } },
      queuePrefix: tagged(),
      ...options,
    });

  /** A test that failed midway may leave the cluster down, and a worker closes only on a live one. */
  async function closeOnLiveCluster(harness: Harness): Promise<void> {
    if (!cluster.running) await cluster.restart();
    await harness.close();
  }

  it('runs the lifecycle, with every key of the queue on one node', async () => {
    const prefix = tagged();
    const harness = await onCluster({ queuePrefix: prefix });
    try {
      await runLifecycle(harness, db);
      const keysPerNode = await Promise.all(
        cluster.nodes.map(async (node) => {
          const client = new Redis({ host: '127.0.0.1', port: node.port });
          try {
            return (await client.keys(`${prefix}:*`)).length;
          } finally {
            client.disconnect();
          }
        }),
      );
      assert.equal(keysPerNode.filter((count) => count > 0).length, 1, `keys: ${keysPerNode}`);
    } finally {
      await harness.close();
    }
  });

  it('takes an ioredis Cluster instance, and leaves it open to the app', async () => {
    const instance = new Cluster(cluster.startupNodes);
    const harness = await startHarness({
      dataSource: db.dataSource,
      connection: instance,
      queuePrefix: tagged(),
    });
    try {
      await runLifecycle(harness, db);
    } finally {
      await harness.close();
    }
    try {
      assert.equal(await instance.ping(), 'PONG', 'the app still uses its own client');
    } finally {
      instance.disconnect();
    }
  });

  it('keeps saving while the cluster is down, and the relay sends the work once it is back', async () => {
    const logger = new RecordingLogger();
    const harness = await onCluster({ logger, relay: { interval: 200, after: 100 } });
    try {
      const photos = db.dataSource.getRepository(Photo);
      const photo = photos.create({ title: 'offline' });
      await harness.attachments.attach(photo, 'image', png(7, 7), { filename: 'o.png' });
      await cluster.kill();
      await waitFor(
        async () => logger.warnings.some((line) => /unreachable/.test(line)),
        'the outage to be noticed',
      );

      await photos.save(photo); // returns although no node can take the job
      const pending = await db.dataSource
        .getRepository(AttachmentWork)
        .countBy({ status: 'pending' });
      assert.equal(pending, 1, 'the promotion waits in the outbox');
      assert.equal(await storageOf(db, photo.id), 'cache');

      await cluster.restart(); // empty: the nodes kept nothing
      await waitFor(
        async () => (await storageOf(db, photo.id)) === 'store',
        'the promotion after the cluster came back',
      );
      await waitForIdle(harness, db.dataSource);
      await assertNothingOrphaned(harness, db);
      assert.equal(
        logger.warnings.filter((line) => /unreachable/.test(line)).length,
        1,
        'one warning for the outage',
      );
      assert.ok(logger.logs.some((line) => /reachable again/.test(line)));
    } finally {
      await closeOnLiveCluster(harness);
    }
  });

  it('shuts down while the cluster is down, as on SIGTERM during an outage', async () => {
    const logger = new RecordingLogger();
    const harness = await onCluster({ logger });
    await harness.queue.waitUntilReady();
    await cluster.kill();
    try {
      await waitFor(
        async () => logger.warnings.some((line) => /unreachable/.test(line)),
        'the outage to be noticed',
      );
      await within(20_000, harness.app.close(), 'the shutdown');
    } finally {
      await cluster.restart();
    }
  });

  /** A process of the app on this cluster and database. */
  const appProcess = (holdShutdown?: ShutdownStage) =>
    new ShutdownProcess({
      databaseUrl: db.url!,
      queuePrefix: tagged(),
      redis: { cluster: cluster.startupNodes },
      holdShutdown,
    });

  it('a process stopped by SIGTERM while the cluster is down exits by itself', async () => {
    const app = appProcess();
    try {
      await app.ready();
      await cluster.kill();
      await app.line(/^WARN .*unreachable/);
      app.terminate();
      assert.deepEqual(await app.waitForExit(), { code: 0, signal: null });
    } finally {
      await app.kill();
      await cluster.restart();
    }
  });

  it('a process whose cluster dies before its worker closes, during its shutdown, exits by itself', async () => {
    const app = appProcess('destroy');
    try {
      await app.ready();
      app.terminate();
      await app.reached('destroy');
      await cluster.kill();
      app.release();
      assert.deepEqual(await app.waitForExit(), { code: 0, signal: null });
    } finally {
      await app.kill();
      await cluster.restart();
    }
  });

  it('sets the sweep schedule and runs jobs once the cluster answers, after a start without it', async () => {
    await cluster.kill();
    const harness = await onCluster({ sweepInterval: 60_000 });
    try {
      await cluster.restart();
      const scheduler = await waitFor(
        () => harness.queue.getJobScheduler('attachments-cache-sweep'),
        'the sweep schedule',
      );
      assert.equal(scheduler.every, 60_000);
      // The worker, started while the cluster was down too, runs the first sweep at once.
      await waitFor(
        async () => (await harness.queue.getCompleted()).some((job) => job.name === 'sweep'),
        'the first sweep to run',
      );
    } finally {
      await closeOnLiveCluster(harness);
    }
  });
});

describe('behind Redis Sentinel', () => {
  let sentinel: RedisSentinel;
  let db: TestDatabase;

  before(async () => {
    sentinel = await RedisSentinel.start();
    db = await createTestDatabase('postgres', [Photo, ...attachmentEntities]);
  });

  after(async () => {
    await db?.close();
    await sentinel?.remove();
  });

  it('finds the master through the sentinel and runs the lifecycle', async () => {
    const harness = await startHarness({
      dataSource: db.dataSource,
      // Only the sentinel's port: the master's address comes from the sentinel.
      connection: { sentinels: [{ host: '127.0.0.1', port: sentinel.port }], name: sentinel.name },
    });
    try {
      await runLifecycle(harness, db);
      const master = new Redis({ host: '127.0.0.1', port: sentinel.master.port });
      try {
        const keys = await master.keys(`${harness.queue.opts.prefix}:*`);
        assert.ok(keys.length > 0, 'the queue lives on the master');
      } finally {
        master.disconnect();
      }
    } finally {
      await harness.close();
    }
  });
});
