/**
 * `npm run build:all && node --expose-gc build/bench/rss-at-rest.js`: the resident memory of the
 * sample app at rest, in its default mode (SQLite in a temporary folder, filesystem storages,
 * the local Redis under a queue prefix of its own). What an app pays for the library before
 * the first upload: every module it loads stays resident, used or not.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NestFactory } from '@nestjs/core';
import { Queue } from 'bullmq';
import { ATTACHMENTS_QUEUE } from '../src/index.js';
import { AppModule, redisOptions } from '../sample/app/app.module.js';

const gc = globalThis.gc;
if (!gc) throw new Error('Run node with --expose-gc, so the figure is taken after a full GC');

const uploads = await mkdtemp(join(tmpdir(), 'rss-at-rest-'));
const redisUrl = new URL(process.env.REDIS_URL || 'redis://127.0.0.1:6379');
const queuePrefix = `rss${randomBytes(4).toString('hex')}`;
const app = await NestFactory.create(
  AppModule.register({ uploads, redisUrl, queuePrefix, secret: randomBytes(32).toString('hex') }),
  { logger: ['error', 'warn'] },
);
try {
  await app.listen(0, '127.0.0.1');
  // The workers, the relay and the sweep scheduler finish starting on their own timers.
  await sleep(2000);
  gc();
  gc();
  const mb = process.memoryUsage().rss / (1024 * 1024);
  process.stdout.write(`rss at rest: ${mb.toFixed(1)} MB\n`);
} finally {
  await app.close();
  const queue = new Queue(ATTACHMENTS_QUEUE, {
    connection: redisOptions(redisUrl),
    prefix: queuePrefix,
  });
  await queue.obliterate({ force: true });
  await queue.close();
  await rm(uploads, { recursive: true, force: true });
}
