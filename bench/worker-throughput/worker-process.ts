/**
 * A worker process of the worker-throughput bench (forked by the scenario, one per run): boots
 * one side on a paused queue, then on `go` resumes the queue and times the drain of the
 * backlog, from the resume to the completion of its last promote job, with the CPU the process
 * spent meanwhile. Boot, the opening of connections and the closing are outside the span.
 */
import { performance } from 'node:perf_hooks';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { ATTACHMENTS_QUEUE } from '../../src/index.js';
import { jobIdFor } from '../../src/outbox/index.js';
import { redisConnection } from '../../test/support/harness.js';
import type { ChildMessage, DrainMeasure, ParentMessage, WorkerRunConfig } from './protocol.js';
import type { BootedWorker } from './statistics.js';
import { within } from './deadline.js';

const BOOT_TIMEOUT_MS = 60_000;

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve, reject) =>
    process.send!(message, undefined, {}, (error) => (error ? reject(error) : resolve())),
  );
}

function nextMessage<T extends ParentMessage['type']>(type: T) {
  return new Promise<Extract<ParentMessage, { type: T }>>((resolve) => {
    const listen = (message: ParentMessage) => {
      if (message.type !== type) return;
      process.off('message', listen);
      resolve(message as Extract<ParentMessage, { type: T }>);
    };
    process.on('message', listen);
  });
}

async function boot(config: WorkerRunConfig): Promise<BootedWorker> {
  if (config.side === 'ours') return (await import('./our-worker.js')).startOurWorker(config);
  return (await import('./floor-worker.js')).startFloorWorker(config);
}

async function untilWorkerListens(queue: Queue): Promise<void> {
  while ((await queue.getWorkers()).length === 0) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function main(): Promise<void> {
  const { config, workIds } = await nextMessage('start');
  const connection = redisConnection();
  const queue = new Queue(ATTACHMENTS_QUEUE, { connection, prefix: config.queuePrefix });
  const side = await within(BOOT_TIMEOUT_MS, () => `${config.side} worker boot`, boot(config));
  let events: QueueEvents | undefined;
  try {
    await within(BOOT_TIMEOUT_MS, () => 'the worker to listen', untilWorkerListens(queue));
    await side.flushStatistics();

    // Completions are read from the queue's event stream, from its current end: the events of
    // the backlog's making are behind it, and none of the drain's can be missed.
    const redis = new Redis(connection);
    const last = await redis
      .xrevrange(queue.keys.events!, '+', '-', 'COUNT', 1)
      .finally(() => redis.quit());
    const pending = new Set(workIds.map(jobIdFor));
    let failures = 0;
    let drained!: () => void;
    const allDone = new Promise<void>((resolve) => (drained = resolve));
    events = new QueueEvents(ATTACHMENTS_QUEUE, {
      connection: { ...connection, maxRetriesPerRequest: null },
      prefix: config.queuePrefix,
      lastEventId: last[0]?.[0] ?? '0',
    });
    events.on('completed', ({ jobId }) => {
      if (pending.delete(jobId) && pending.size === 0) drained();
    });
    events.on('failed', ({ jobId, failedReason }) => {
      if (failures++ < 3)
        process.stderr.write(`${config.side}: ${jobId} failed: ${failedReason}\n`);
    });
    await events.waitUntilReady();

    await send({ type: 'ready' });
    await nextMessage('go');
    const cpu = process.cpuUsage();
    const start = performance.now();
    await queue.resume();
    await within(
      config.timeoutMs,
      () =>
        `${config.side} to promote ${workIds.length} (${pending.size} left, ${failures} failed)`,
      allDone,
    );
    const elapsedMs = performance.now() - start;
    const used = process.cpuUsage(cpu);
    const measure: DrainMeasure = {
      elapsedMs,
      cpuMs: (used.user + used.system) / 1000,
      flushCommits: await side.flushStatistics(),
    };
    await send({ type: 'done', ...measure });
  } finally {
    await events?.close();
    await queue.close();
    await side.close();
  }
}

// Orphaned by a parent that died: nobody will read the result or clean up after this process.
process.once('disconnect', () => process.exit(1));

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    await send({ type: 'error', message }).catch(() => undefined);
    process.exit(1);
  },
);
