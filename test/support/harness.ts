import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Module,
  type INestApplicationContext,
  type LoggerService,
  type Provider,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import {
  AttachmentsModule,
  AttachmentsService,
  AttachmentWork,
  AttachmentWorkService,
  ATTACHMENTS_QUEUE,
  FileSystemStorage,
  isUploadedFile,
  type AttachmentsModuleOptions,
  type Storage,
} from '../../src/index.js';
import { type AttachmentsModuleExtras } from '../../src/config/index.js';
import { createHttpApp, type FastifyAdapterOptions, type HttpPlatform } from './platforms.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const SECRET = 'test-secret-test-secret-test-secret-0123';

export interface Harness {
  app: INestApplicationContext;
  /** The app's root module, for `app.select(...)`. */
  rootModule: Type;
  attachments: AttachmentsService;
  work: AttachmentWorkService;
  queue: Queue;
  storages: Record<string, Storage>;
  directory: string;
  /** `http://127.0.0.1:<port>` when started with `http: true`. */
  baseUrl: string;
  close(): Promise<void>;
}

export interface HarnessOptions extends Partial<AttachmentsModuleOptions> {
  dataSource: DataSource;
  /** Reuse a directory (for a second process over the same storages). */
  directory?: string;
  /** Receives the app's log lines (silent by default; `TEST_LOGS=1` prints them). */
  logger?: LoggerService;
  /** Serve HTTP (the upload and files controller) on a free port of 127.0.0.1. */
  http?: boolean;
  /** The HTTP adapter under the app when `http` is set: Express unless told otherwise. */
  platform?: HttpPlatform;
  /** Options of Fastify's adapter, on that platform. */
  fastify?: FastifyAdapterOptions;
  /** The app's global route prefix (`app.setGlobalPrefix`). */
  globalPrefix?: string;
  /** The app's own controllers, next to the module's routes. */
  controllers?: Type[];
  /** The app's own modules (TerminusModule) and providers, next to the attachments module. */
  imports?: Type[];
  providers?: Provider[];
  /** Module extras such as `controller`. */
  extras?: AttachmentsModuleExtras;
}

export function redisConnection(url = REDIS_URL) {
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port || 6379) };
}

/** A Nest application context with the attachments module on filesystem storages. */
export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const directory = options.directory ?? (await mkdtemp(join(tmpdir(), 'attachments-files-')));
  const storages = options.storages ?? {
    cache: new FileSystemStorage({ directory: join(directory, 'cache') }),
    store: new FileSystemStorage({ directory: join(directory, 'store') }),
  };
  const {
    directory: _directory,
    logger,
    http,
    platform,
    fastify,
    globalPrefix,
    controllers,
    imports,
    providers,
    extras,
    ...overrides
  } = options;
  const moduleOptions: AttachmentsModuleOptions = {
    secret: SECRET,
    connection: redisConnection(),
    queuePrefix: `test${randomBytes(4).toString('hex')}`,
    cacheDeleteDelay: 0,
    relay: { interval: 0 },
    sweepInterval: 0,
    jobOptions: { attempts: 3, backoff: { type: 'fixed', delay: 50 }, removeOnComplete: false },
    ...overrides,
    storages,
  };

  @Module({
    imports: [AttachmentsModule.forRoot({ ...moduleOptions, ...extras }), ...(imports ?? [])],
    controllers: controllers ?? [],
    providers: providers ?? [],
  })
  class TestModule {}

  const logging = { logger: logger ?? (process.env.TEST_LOGS ? undefined : false) } as const;
  let baseUrl = '';
  let app: INestApplicationContext;
  if (http) {
    const server = await createHttpApp(TestModule, platform ?? 'express', logging, fastify);
    if (globalPrefix) server.setGlobalPrefix(globalPrefix);
    await server.listen(0, '127.0.0.1');
    baseUrl = (await server.getUrl()).replace('[::1]', '127.0.0.1');
    app = server;
  } else {
    app = await NestFactory.createApplicationContext(TestModule, logging);
    await app.init();
  }
  const queue = app.get<Queue>(getQueueToken(ATTACHMENTS_QUEUE), { strict: false });
  return {
    app,
    rootModule: TestModule,
    attachments: app.get(AttachmentsService, { strict: false }),
    work: app.get(AttachmentWorkService, { strict: false }),
    queue,
    storages,
    directory,
    baseUrl,
    async close() {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await app.close();
      if (!options.directory) await rm(directory, { recursive: true, force: true });
    },
  };
}

export async function waitFor<T>(
  check: () => Promise<T | undefined | null | false>,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await check();
    if (result) return result;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Waits until no work is pending in the outbox and no job is waiting, delayed or running. */
export async function waitForIdle(harness: Harness, dataSource: DataSource, timeoutMs = 30_000) {
  await waitFor(
    async () => {
      const pending = await dataSource.getRepository(AttachmentWork).countBy({ status: 'pending' });
      const counts = await harness.queue.getJobCounts(
        'waiting',
        'active',
        'delayed',
        'prioritized',
      );
      return pending === 0 && Object.values(counts).every((count) => count === 0);
    },
    'the attachment work to finish',
    timeoutMs,
  );
}

export async function listFiles(storage: Storage): Promise<string[]> {
  const ids: string[] = [];
  for await (const file of storage.list()) ids.push(file.id);
  return ids.sort();
}

/**
 * Every file in every storage is referenced by a record, and every referenced file exists:
 * nothing orphaned, nothing lost. Returns the referenced `storage:id` keys.
 */
export async function referencedFiles(
  dataSource: DataSource,
  targets: { entity: EntityTarget<ObjectLiteral>; properties: string[] }[],
): Promise<string[]> {
  const keys: string[] = [];
  for (const { entity, properties } of targets) {
    // Soft-deleted rows are excluded: removing a record, softly or not, deletes its files.
    const rows = await dataSource.getRepository(entity).find();
    for (const row of rows) {
      for (const property of properties) {
        const value = row[property] as unknown;
        for (const file of Array.isArray(value) ? value : [value]) {
          if (!isUploadedFile(file)) continue;
          for (const { storage, id } of [file, ...Object.values(file.derivatives ?? {})]) {
            keys.push(`${storage}:${id}`);
          }
        }
      }
    }
  }
  return keys.sort();
}

export async function storedFiles(storages: Record<string, Storage>): Promise<string[]> {
  const keys: string[] = [];
  for (const [name, storage] of Object.entries(storages)) {
    for (const id of await listFiles(storage)) keys.push(`${name}:${id}`);
  }
  return keys.sort();
}

/** Every file under a filesystem storage's folder, temporary upload files included. */
export async function filesOnDisk(harness: Harness, storage: string): Promise<string[]> {
  const folder = join(harness.directory, storage);
  const entries = await readdir(folder, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
}
