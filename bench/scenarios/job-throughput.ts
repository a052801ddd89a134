/**
 * Scenario 4: promotions per second of small files at several worker concurrencies, on
 * PostgreSQL and Redis, beside BullMQ no-op jobs per second at the same concurrency on the same
 * Redis (the engine's own limit); plus commit-to-stored latency under that load.
 */
import { randomBytes } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import type { Subscription } from 'rxjs';
import { AttachmentEvents, attachmentEntities, type AttachmentEvent } from '../../src/index.js';
import { createTestDatabase } from '../../test/support/databases.js';
import { Photo } from '../../test/support/entities.js';
import { png } from '../../test/support/fixtures.js';
import { redisConnection, startHarness, waitForIdle } from '../../test/support/harness.js';
import type { BenchOptions, BenchRow, BenchScenario } from '../lib/result.js';
import { median, percentile } from '../lib/stats.js';

/** Jobs per second BullMQ runs when the job does nothing. */
async function noopRate(jobs: number, concurrency: number): Promise<number> {
  const prefix = `benchnoop${randomBytes(4).toString('hex')}`;
  const connection = redisConnection();
  const queue = new Queue('noop', { connection, prefix });
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const worker = new Worker('noop', async () => undefined, {
    connection: { ...connection, maxRetriesPerRequest: null },
    prefix,
    concurrency,
    autorun: false,
  });
  worker.on('completed', () => {
    if (++done === jobs) finish();
  });
  try {
    await queue.addBulk(Array.from({ length: jobs }, (_, n) => ({ name: 'noop', data: { n } })));
    const start = performance.now();
    void worker.run();
    await finished;
    return jobs / ((performance.now() - start) / 1000);
  } finally {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

/**
 * Saves `count` photos one after another while a worker at `concurrency` promotes them, in the
 * same process; times each from its commit to its `promoted` event.
 */
async function promotionRate(count: number, concurrency: number) {
  const db = await createTestDatabase('postgres', [Photo, ...attachmentEntities]);
  const harness = await startHarness({
    dataSource: db.dataSource,
    worker: { concurrency },
    jobOptions: { attempts: 3, removeOnComplete: true },
  });
  const committed = new Map<number, number>();
  const stored = new Map<number, number>();
  const events = harness.app.get(AttachmentEvents, { strict: false });
  const subscription: Subscription = events.events$.subscribe((event: AttachmentEvent) => {
    if (event.type === 'promoted') stored.set(Number(event.recordId.id), performance.now());
  });
  try {
    const photos = db.dataSource.getRepository(Photo);
    // The uploads happen before: the measure is what follows the saves.
    const tokens: string[] = [];
    for (let n = 0; n < count; n++) {
      tokens.push((await harness.attachments.cache(png(8, 8, n), { filename: 'p.png' })).token);
    }
    const start = performance.now();
    for (const token of tokens) {
      const photo = photos.create({ title: 'bench' });
      await harness.attachments.attach(photo, 'image', token);
      await photos.save(photo);
      committed.set(photo.id, performance.now());
    }
    await waitForIdle(harness, db.dataSource, 300_000);
    const end = Math.max(...stored.values());
    const latencies = [...committed].map(([id, at]) => (stored.get(id) ?? end) - at);
    return {
      rate: count / ((end - start) / 1000),
      p50: median(latencies),
      p99: percentile(latencies, 99),
    };
  } finally {
    subscription.unsubscribe();
    await harness.close();
    await db.close();
  }
}

export default async function jobThroughput(options: BenchOptions): Promise<BenchScenario> {
  const count = options.quick ? 150 : 600;
  const repetitions = options.quick ? 1 : 3;
  const rows: BenchRow[] = [];
  for (const concurrency of [1, 10, 50]) {
    const ours = [];
    const noops = [];
    for (let i = 0; i < repetitions; i++) {
      noops.push(await noopRate(count, concurrency));
      ours.push(await promotionRate(count, concurrency));
    }
    const subject = median(ours.map((run) => run.rate));
    const baseline = median(noops);
    rows.push({
      case: `concurrency ${concurrency}`,
      metric: 'jobs per second',
      baseline,
      subject,
      ratio: subject / baseline,
      repetitions,
      extra: {
        'commit→stored p50 ms': median(ours.map((run) => run.p50)),
        'commit→stored p99 ms': median(ours.map((run) => run.p99)),
      },
    });
  }
  return {
    id: 'job-throughput',
    title: 'Job throughput: promotions per second',
    subject: `${count} small PNGs saved one after another while the worker promotes them (PostgreSQL, filesystem storages, hard-link copies)`,
    baseline: `${count} BullMQ no-op jobs on the same Redis`,
    better: 'higher',
    rows,
    notes: [
      "A promotion does a record read, a copy, a conditional UPDATE, an outbox delete and insert, and queues the cached copy's deletion: several database round trips a no-op job does not make.",
      "The saves and the worker share this process and its two cores, so the rate is bounded by how fast records are saved one after another: it measures the pipeline from commit to stored, not the worker alone. Latency runs from each save's commit to its `promoted` event.",
    ],
  };
}
