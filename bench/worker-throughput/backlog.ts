/**
 * A drained-queue backlog for the worker-throughput bench: a fresh PostgreSQL database, two
 * filesystem storages in one temp folder (so promotions are hard links), and `count` photos
 * saved by a web-only app, each with a small cached PNG. The queue is paused first, so the
 * backlog's promote jobs wait in Redis and its outbox rows stay pending until a worker process
 * resumes the queue.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { ATTACHMENTS_QUEUE, AttachmentWork, attachmentEntities } from '../../src/index.js';
import { createTestDatabase, type TestDatabase } from '../../test/support/databases.js';
import { Photo } from '../../test/support/entities.js';
import { png } from '../../test/support/fixtures.js';
import { redisConnection, startHarness, type Harness } from '../../test/support/harness.js';
import { JOB_OPTIONS, POOL_SIZE, type WorkerRunConfig, type WorkerSide } from './protocol.js';
import { flushPoolStatistics } from './statistics.js';

/** Saves in flight at once while the backlog is made: its making is not what is measured. */
const SAVES_AT_ONCE = 8;

export interface Backlog {
  count: number;
  /** Outbox ids of the backlog's promotions (the jobs' ids derive from them). */
  workIds: string[];
  databaseUrl: string;
  /** The database's name, for its commit counters in pg_stat_database. */
  databaseName: string;
  /** What a worker process needs to reach this backlog. */
  config(side: WorkerSide, concurrency: number, timeoutMs: number): WorkerRunConfig;
  /** Throws unless every record holds a stored file that exists and no promotion is left. */
  verify(side: WorkerSide): Promise<void>;
  /** Drops the database, obliterates the queue and removes the folder. */
  close(): Promise<void>;
}

async function saveAll(harness: Harness, db: TestDatabase, count: number): Promise<void> {
  const photos = db.dataSource.getRepository(Photo);
  const save = async (n: number) => {
    const { token } = await harness.attachments.cache(png(8, 8, n), { filename: 'p.png' });
    const photo = photos.create({ title: `bench ${n}` });
    await harness.attachments.attach(photo, 'image', token);
    await photos.save(photo);
  };
  for (let first = 0; first < count; first += SAVES_AT_ONCE) {
    const batch = Array.from({ length: Math.min(SAVES_AT_ONCE, count - first) }, (_, k) => k);
    await Promise.all(batch.map((k) => save(first + k)));
  }
}

async function countWaiting(prefix: string): Promise<number> {
  const queue = new Queue(ATTACHMENTS_QUEUE, { connection: redisConnection(), prefix });
  try {
    return await queue.getJobCountByTypes('wait', 'prioritized');
  } finally {
    await queue.close();
  }
}

export async function makeBacklog(count: number): Promise<Backlog> {
  const directory = await mkdtemp(join(tmpdir(), 'bench-worker-'));
  const db = await createTestDatabase('postgres', [Photo, ...attachmentEntities]).catch(
    async (error: unknown) => {
      await rm(directory, { recursive: true, force: true });
      throw error;
    },
  );
  const queuePrefix = `benchworker${randomBytes(4).toString('hex')}`;
  const cacheDirectory = join(directory, 'cache');
  const storeDirectory = join(directory, 'store');
  let harness: Harness | undefined;
  const close = async () => {
    await harness?.app.close().catch(() => undefined);
    const queue = new Queue(ATTACHMENTS_QUEUE, {
      connection: redisConnection(),
      prefix: queuePrefix,
    });
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await db.close();
    await rm(directory, { recursive: true, force: true });
  };
  try {
    harness = await startHarness({
      dataSource: db.dataSource,
      directory,
      worker: false,
      queuePrefix,
      jobOptions: JOB_OPTIONS,
    });
    await harness.queue.pause();
    await saveAll(harness, db, count);
    // The app goes; Redis keeps the paused queue and its jobs for the worker process. A save
    // returns before its jobs reach Redis: the close waits for those adds, so count after it.
    await harness.app.close();
    harness = undefined;
    const queued = await countWaiting(queuePrefix);
    const work = await db.dataSource.getRepository(AttachmentWork).findBy({ kind: 'promote' });
    if (queued !== count || work.length !== count) {
      throw new Error(`backlog of ${count}: ${queued} jobs queued, ${work.length} outbox rows`);
    }
    // The saves' commits are counted now, not late inside a drain.
    await flushPoolStatistics(async () => {
      const runner = db.dataSource.createQueryRunner();
      await runner.connect();
      return runner;
    }, POOL_SIZE);
    const photo = db.dataSource.getMetadata(Photo);
    const databaseName = new URL(db.url!).pathname.slice(1);
    return {
      count,
      workIds: work.map((row) => row.id),
      databaseUrl: db.url!,
      databaseName,
      config: (side, concurrency, timeoutMs) => ({
        side,
        concurrency,
        databaseUrl: db.url!,
        cacheDirectory,
        storeDirectory,
        queuePrefix,
        table: photo.tableName,
        idColumn: photo.primaryColumns[0]!.databaseName,
        column: photo.findColumnWithPropertyName('image')!.databaseName,
        workTable: db.dataSource.getMetadata(AttachmentWork).tableName,
        timeoutMs,
      }),
      async verify(side) {
        const rows = await db.dataSource.getRepository(Photo).find();
        const stored = rows.filter((row) => row.image?.storage === 'store');
        if (rows.length !== count || stored.length !== count) {
          throw new Error(`${side}: ${stored.length} of ${rows.length} records hold a stored file`);
        }
        for (const row of stored) {
          // Throws when the column names a file that was never put in the store.
          await stat(join(storeDirectory, row.image!.id));
        }
        const left = await db.dataSource.getRepository(AttachmentWork).countBy({ kind: 'promote' });
        if (left > 0) throw new Error(`${side}: ${left} promotions left in the outbox`);
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
