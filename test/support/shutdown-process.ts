/**
 * A process for shutdown tests: the attachments module with its worker, stopped by SIGTERM
 * through Nest's shutdown hooks, as an orchestrator stops an app. Nest sends itself the signal
 * again once the app is closed; this process takes that signal instead of dying from it, so it
 * ends only when nothing is left to keep it alive, and its exit code says whether it ended so.
 *
 * Required: DATABASE_URL, QUEUE_PREFIX, and one of REDIS_URL (one Redis) or REDIS_CLUSTER (the
 * cluster's startup nodes as JSON `[{ "host": ..., "port": ... }]`). Prints `READY` once booted,
 * `WARN <message>` and `ERROR <message>` for what the app logs, and `SHUTTING DOWN <stage>` at
 * two stages of the shutdown: `destroy`, before the module closes its worker, and
 * `before-shutdown`, once the worker is closed and before the queue is. HOLD_SHUTDOWN=<stage>
 * holds the shutdown at that stage until a line arrives on stdin, so a test can act (kill
 * Redis) at that exact point. FILES_DIR shares the files of the test's own app (and its work);
 * with HOLD_JOB=1 a promotion stops before its write, printing `JOB HELD`, and goes on only
 * when the held shutdown goes on, so it ends after what the test did there.
 */
import 'reflect-metadata';
import {
  Controller,
  type BeforeApplicationShutdown,
  type OnApplicationShutdown,
  type OnModuleDestroy,
} from '@nestjs/common';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { DataSource } from 'typeorm';
import { attachmentEntities } from '../../src/index.js';
import { urlOptions } from './databases.js';
import { Photo } from './entities.js';
import { redisConnection, startHarness } from './harness.js';

const required = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`shutdown-process: ${name} is not set`);
  return value;
};

const dataSource = await new DataSource(
  urlOptions(required('DATABASE_URL'), { entities: [Photo, ...attachmentEntities] }),
).initialize();
const clusterNodes = process.env.REDIS_CLUSTER;
const filesDirectory = process.env.FILES_DIR || undefined;
const print = (line: string) => process.stdout.write(`${line}\n`);
let releaseJob: () => void = () => undefined;
const jobReleased = new Promise<void>((resolve) => (releaseJob = resolve));

async function stage(name: 'destroy' | 'before-shutdown'): Promise<void> {
  print(`SHUTTING DOWN ${name}`);
  if (process.env.HOLD_SHUTDOWN !== name) return;
  const lines = createInterface({ input: process.stdin });
  await once(lines, 'line');
  lines.close();
  process.stdin.destroy();
  releaseJob();
}

/** The app's own part of the shutdown, told first at each stage (its module is the root). */
@Controller()
class ShutdownWatch implements OnModuleDestroy, BeforeApplicationShutdown, OnApplicationShutdown {
  onModuleDestroy(): Promise<void> {
    return stage('destroy');
  }

  beforeApplicationShutdown(): Promise<void> {
    return stage('before-shutdown');
  }

  async onApplicationShutdown(): Promise<void> {
    await dataSource.destroy();
    if (!filesDirectory) await rm(harness.directory, { recursive: true, force: true });
  }
}

const harness = await startHarness({
  dataSource,
  connection: clusterNodes
    ? { cluster: { nodes: JSON.parse(clusterNodes) as { host: string; port: number }[] } }
    : redisConnection(required('REDIS_URL')),
  queuePrefix: required('QUEUE_PREFIX'),
  directory: filesDirectory,
  controllers: [ShutdownWatch],
  ...(process.env.HOLD_JOB === '1'
    ? {
        jobHooks: {
          onStep: async (step: string) => {
            if (step !== 'promote:before-write') return;
            print('JOB HELD');
            await jobReleased;
          },
        },
      }
    : {}),
  logger: {
    log: () => undefined,
    error: (message: unknown) => print(`ERROR ${String(message)}`),
    warn: (message: unknown) => print(`WARN ${String(message)}`),
  },
});
harness.app.enableShutdownHooks(['SIGTERM']);
// Taken from Nest once it has closed the app and sends the signal again: from then on, only
// what the app left running can keep this process alive.
process.on('SIGTERM', () => undefined);
print('READY');
