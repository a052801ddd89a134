/**
 * A worker process for crash tests: the attachments module with its BullMQ worker, over the
 * database, directories and queue prefix the parent test gives in the environment
 * (`WorkerProcess` in processes.ts sets these). It prints `READY` once booted.
 *
 * Required: DATABASE_URL, FILES_DIR, QUEUE_PREFIX, and LOCK_MS (the lock duration and the
 * stalled check interval). Optional, each leaving the harness's default when unset:
 * - REDIS_URL: read by the harness.
 * - CONCURRENCY: jobs at once (default 10); DB_POOL_SIZE: its connections (TypeORM's default).
 * - RELAY_INTERVAL_MS runs the relay that often; RELAY_AFTER_MS sends work that old (default
 *   RELAY_INTERVAL_MS). Without RELAY_INTERVAL_MS, no relay.
 * - PAUSE_AT: every job stops at that step, printing `PAUSED <recordId>`, for the parent to
 *   kill this process at that exact point.
 * - STEP_DELAY_MS with STEP_DELAY_SEED: a pause of 0 to STEP_DELAY_MS milliseconds at every job
 *   step, drawn from a PRNG seeded with STEP_DELAY_SEED, which keeps jobs in flight longer for
 *   a test that kills this process at random moments.
 * - ANNOUNCE_STEPS=1 prints `STEP <step> <workId>` when a job reaches a step (before that
 *   pause), for such a test to strike at a chosen step.
 * - EVENTS=1 prints each event as a line `EVENT {"type":...,"id":...}`.
 */
import 'reflect-metadata';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { urlOptions } from './databases.js';
import {
  AttachmentEvents,
  attachmentEntities,
  FileSystemStorage,
  type JobStep,
} from '../../src/index.js';
import { Photo } from './entities.js';
import { startHarness } from './harness.js';
import type { WorkerSetting } from './processes.js';
import { Random } from './random.js';

const setting = (name: WorkerSetting): string | undefined => process.env[name] || undefined;

const required = (name: WorkerSetting): string => {
  const value = setting(name);
  if (!value) throw new Error(`worker-process: ${name} is not set`);
  return value;
};

const optionalNumber = (name: WorkerSetting): number | undefined => {
  const value = setting(name);
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number)) throw new Error(`worker-process: ${name} is not a number`);
  return number;
};

const poolSize = optionalNumber('DB_POOL_SIZE');
const dataSource = await new DataSource(
  urlOptions(required('DATABASE_URL'), { entities: [Photo, ...attachmentEntities], poolSize }),
).initialize();
const directory = required('FILES_DIR');
const lockDuration = Number(required('LOCK_MS'));
const relayInterval = optionalNumber('RELAY_INTERVAL_MS');
const relayAfter = optionalNumber('RELAY_AFTER_MS') ?? relayInterval;
const pauseAt = setting('PAUSE_AT') as JobStep | undefined;
const stepDelay = optionalNumber('STEP_DELAY_MS') ?? 0;
const stepRandom = new Random(optionalNumber('STEP_DELAY_SEED') ?? 0);
const announceSteps = setting('ANNOUNCE_STEPS') === '1';

const harness = await startHarness({
  dataSource,
  directory,
  storages: {
    cache: new FileSystemStorage({ directory: join(directory, 'cache') }),
    store: new FileSystemStorage({ directory: join(directory, 'store') }),
  },
  queuePrefix: required('QUEUE_PREFIX'),
  worker: {
    concurrency: optionalNumber('CONCURRENCY') ?? 10,
    lockDuration,
    stalledInterval: lockDuration,
  },
  ...(relayInterval ? { relay: { interval: relayInterval, after: relayAfter } } : {}),
  jobHooks: {
    onStep: async (step, data) => {
      if (announceSteps) process.stdout.write(`STEP ${step} ${String(data.workId)}\n`);
      if (stepDelay > 0) {
        await new Promise((resolve) => setTimeout(resolve, stepRandom.int(0, stepDelay)));
      }
      if (step !== pauseAt) return;
      const record = data.kind === 'delete' ? null : data.recordId;
      process.stdout.write(`PAUSED ${JSON.stringify(record)}\n`);
      await new Promise(() => undefined);
    },
  },
});
if (setting('EVENTS') === '1') {
  harness.app.get(AttachmentEvents, { strict: false }).events$.subscribe((event) => {
    const id = 'id' in event ? event.id : undefined;
    process.stdout.write(`EVENT ${JSON.stringify({ type: event.type, id })}\n`);
  });
}
process.stdout.write('READY\n');
