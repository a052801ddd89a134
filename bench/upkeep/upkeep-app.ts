/**
 * One side of the upkeep scenario: a fresh PostgreSQL database with the library's tables, a
 * filesystem cache storage and a Nest application context (no worker: the scenario calls the
 * upkeep itself), with what the scenario drives: the work service and the scheduled relay pass.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { Entity, PrimaryColumn } from 'typeorm';
import {
  attachmentEntities,
  AttachmentsModule,
  AttachmentWorkService,
  ATTACHMENTS_QUEUE,
  FileSystemStorage,
} from '../../src/index.js';
// The scheduled pass (only due rows); the public relay() checks every row.
import { WorkRelay } from '../../src/work/work-relay.js';
import { createTestDatabase, type TestDatabase } from '../../test/support/databases.js';
import { redisConnection, SECRET } from '../../test/support/harness.js';
import { QueryRecorder } from './query-plans.js';

/** The record the outbox rows belong to, so forRecord() has an entity to look up. */
@Entity()
export class UpkeepRecord {
  @PrimaryColumn({ type: 'int' })
  id!: number;
}

export interface UpkeepSide {
  db: TestDatabase;
  work: AttachmentWorkService;
  relay: WorkRelay;
  queue: Queue;
  /** The cache storage's folder, where the scenario writes cached files itself. */
  cacheDirectory: string;
  recorder: QueryRecorder;
  close(): Promise<void>;
}

export const CACHE_TTL_MS = 24 * 3600_000;

export async function startUpkeepSide(directory: string): Promise<UpkeepSide> {
  const cacheDirectory = join(directory, 'cache');
  await mkdir(cacheDirectory, { recursive: true });
  const db = await createTestDatabase('postgres', [UpkeepRecord, ...attachmentEntities]);
  let app: INestApplicationContext | undefined;
  try {
    @Module({
      imports: [
        AttachmentsModule.forRoot({
          dataSource: db.dataSource,
          storages: {
            cache: new FileSystemStorage({ directory: cacheDirectory }),
            store: new FileSystemStorage({ directory: join(directory, 'store') }),
          },
          connection: redisConnection(),
          queuePrefix: `benchupkeep${randomBytes(4).toString('hex')}`,
          secret: SECRET,
          worker: false,
          cacheTtl: CACHE_TTL_MS,
        }),
      ],
    })
    class UpkeepModule {}
    app = await NestFactory.createApplicationContext(UpkeepModule, { logger: false });
    await app.init();
    const queue = app.get<Queue>(getQueueToken(ATTACHMENTS_QUEUE), { strict: false });
    await queue.waitUntilReady();
    const opened = app;
    return {
      db,
      work: app.get(AttachmentWorkService, { strict: false }),
      relay: app.get(WorkRelay, { strict: false }),
      queue,
      cacheDirectory,
      recorder: QueryRecorder.attach(db.dataSource),
      async close() {
        await queue.obliterate({ force: true }).catch(() => undefined);
        await opened.close();
        await db.close();
        await rm(directory, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await app?.close();
    await db.close();
    throw error;
  }
}
