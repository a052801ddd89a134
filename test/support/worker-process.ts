/**
 * A worker process for crash tests: the attachments module with its BullMQ worker, over the
 * database, directories and queue prefix the parent test gives in the environment. With
 * PAUSE_AT set, every job stops at that step and says so on stdout, for the parent to kill
 * this process at that exact point. RELAY_MS runs the relay that often (and sends work that
 * old); EVENTS=1 prints each event as a line `EVENT {"type":...,"id":...}`.
 */
import 'reflect-metadata';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import {
  AttachmentEvents,
  attachmentEntities,
  FileSystemStorage,
  type JobStep,
} from '../../src/index.js';
import { Photo } from './entities.js';
import { startHarness } from './harness.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`worker-process: ${name} is not set`);
  return value;
};

const dataSource = await new DataSource({
  type: 'postgres',
  url: env('DATABASE_URL'),
  entities: [Photo, ...attachmentEntities],
}).initialize();
const directory = env('FILES_DIR');
const pauseAt = process.env.PAUSE_AT as JobStep | undefined;
const lockDuration = Number(env('LOCK_MS'));

const relayMs = Number(process.env.RELAY_MS ?? 0);

const harness = await startHarness({
  dataSource,
  directory,
  storages: {
    cache: new FileSystemStorage({ directory: join(directory, 'cache') }),
    store: new FileSystemStorage({ directory: join(directory, 'store') }),
  },
  queuePrefix: env('QUEUE_PREFIX'),
  worker: { concurrency: 10, lockDuration, stalledInterval: lockDuration },
  ...(relayMs > 0 ? { relay: { interval: relayMs, after: relayMs } } : {}),
  jobHooks: {
    onStep: async (step, data) => {
      if (step !== pauseAt) return;
      process.stdout.write(`PAUSED ${JSON.stringify(data.recordId)}\n`);
      await new Promise(() => undefined);
    },
  },
});
if (process.env.EVENTS === '1') {
  harness.app.get(AttachmentEvents, { strict: false }).events$.subscribe((event) => {
    const id = 'id' in event ? event.id : undefined;
    process.stdout.write(`EVENT ${JSON.stringify({ type: event.type, id })}\n`);
  });
}
process.stdout.write('READY\n');
