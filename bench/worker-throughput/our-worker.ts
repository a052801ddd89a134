/**
 * Ours, worker-only: a Nest application context with AttachmentsModule.forRoot() and a
 * worker, on the web app's database, storages, queue prefix and secret. It runs whatever the
 * library's promote handler does, on TypeORM's default pool.
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AttachmentsModule, FileSystemStorage, attachmentEntities } from '../../src/index.js';
import { urlOptions } from '../../test/support/databases.js';
import { Photo } from '../../test/support/entities.js';
import { SECRET, redisConnection } from '../../test/support/harness.js';
import { JOB_OPTIONS, POOL_SIZE, type WorkerRunConfig } from './protocol.js';
import { flushPoolStatistics, type BootedWorker } from './statistics.js';

/** Longer than any drain: the cached copies' deletions are recorded and queued, not run. */
const CACHE_DELETE_DELAY_MS = 10 * 60_000;

export async function startOurWorker(config: WorkerRunConfig): Promise<BootedWorker> {
  const entities = [Photo, ...attachmentEntities];
  const dataSource = new DataSource(urlOptions(config.databaseUrl, { entities }));
  await dataSource.initialize();

  @Module({
    imports: [
      AttachmentsModule.forRoot({
        dataSource,
        storages: {
          cache: new FileSystemStorage({ directory: config.cacheDirectory }),
          store: new FileSystemStorage({ directory: config.storeDirectory }),
        },
        secret: SECRET,
        connection: redisConnection(),
        queuePrefix: config.queuePrefix,
        worker: { concurrency: config.concurrency },
        jobOptions: JOB_OPTIONS,
        cacheDeleteDelay: CACHE_DELETE_DELAY_MS,
        // A worker-only process of this bench re-sends nothing and sweeps nothing.
        relay: { interval: 0 },
        sweepInterval: 0,
      }),
    ],
  })
  class WorkerModule {}

  const app = await NestFactory.createApplicationContext(WorkerModule, { logger: ['error'] });
  await app.init();
  return {
    flushStatistics: () =>
      flushPoolStatistics(async () => {
        const runner = dataSource.createQueryRunner();
        await runner.connect();
        return runner;
      }, POOL_SIZE),
    async close() {
      await app.close();
      await dataSource.destroy();
    },
  };
}
