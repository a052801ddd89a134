/**
 * A worker process for crash tests: the attachments module with its BullMQ worker, over the
 * database, directories and queue prefix the parent test gives in the environment. With
 * PAUSE_AT set, every promotion stops at that step and says so on stdout, for the parent to
 * kill this process at that exact point.
 */
import 'reflect-metadata';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { attachmentEntities, FileSystemStorage, type JobStep } from '../../src/index.js';
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

await startHarness({
  dataSource,
  directory,
  storages: {
    cache: new FileSystemStorage({ directory: join(directory, 'cache') }),
    store: new FileSystemStorage({ directory: join(directory, 'store') }),
  },
  queuePrefix: env('QUEUE_PREFIX'),
  worker: { concurrency: 10, lockDuration, stalledInterval: lockDuration },
  jobHooks: {
    onStep: async (step, data) => {
      if (step !== pauseAt) return;
      process.stdout.write(`PAUSED ${JSON.stringify(data.recordId)}\n`);
      await new Promise(() => undefined);
    },
  },
});
process.stdout.write('READY\n');
