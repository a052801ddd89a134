/**
 * A runnable tour of the library: attach a file to an entity, save, watch the background job
 * promote it, replace it, remove the record. `npm run example` (Redis must be running).
 *
 * Environment: REDIS_URL (default redis://127.0.0.1:6379), UPLOADS_DIR (default a new temporary
 * folder), QUEUE_PREFIX (BullMQ key prefix, default `quick-start`).
 */
import 'reflect-metadata';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import {
  attachmentEntities,
  AttachmentsModule,
  AttachmentsService,
  FileSystemStorage,
} from '../src/index.js';
import { Photo } from './photo.entity.js';
import { redisIsUp } from './redis-check.js';

const redisUrl = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const uploads = process.env.UPLOADS_DIR ?? (await mkdtemp(join(tmpdir(), 'quick-start-')));

// #region module
const dataSource = new DataSource({
  type: 'better-sqlite3',
  database: join(uploads, 'quick-start.sqlite'),
  entities: [Photo, ...attachmentEntities],
  synchronize: true,
});

@Module({
  imports: [
    AttachmentsModule.forRootAsync({
      useFactory: async () => ({
        dataSource: dataSource.isInitialized ? dataSource : await dataSource.initialize(),
        storages: {
          cache: new FileSystemStorage({ directory: join(uploads, 'cache') }),
          store: new FileSystemStorage({ directory: join(uploads, 'store') }),
        },
        connection: { host: redisUrl.hostname, port: Number(redisUrl.port || 6379) },
        queuePrefix: process.env.QUEUE_PREFIX ?? 'quick-start',
        secret: process.env.ATTACHMENTS_SECRET ?? 'change-me-to-a-long-random-secret-value',
        cacheDeleteDelay: 1000,
      }),
    }),
  ],
})
class AppModule {}
// #endregion module

// A 2x1 PNG, so the example needs no image file of its own.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAIAAAB7QOjdAAAAD0lEQVR4nGNgYGRiZmEFAAAqABAazIwkAAAAAElFTkSuQmCC',
  'base64',
);

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let waited = 0; !(await check()); waited += 50) {
    if (waited > 30_000) throw new Error(`Gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function main(): Promise<void> {
  if (!(await redisIsUp({ host: redisUrl.hostname, port: Number(redisUrl.port || 6379) }))) {
    console.error(
      `Redis is not reachable at ${redisUrl.host}; start it (e.g. \`redis-server --daemonize yes\`) or set REDIS_URL.`,
    );
    process.exitCode = 1;
    return;
  }
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
  const photos = dataSource.getRepository(Photo);
  const stateOf = async (id: number) => (await photos.findOneBy({ id }))?.image?.storage;

  // #region attach
  const attachments = app.get(AttachmentsService);
  const photo = photos.create({ title: 'Sunset' });
  await attachments.attach(photo, 'image', PNG, { filename: 'sunset.png' });
  await photos.save(photo); // returns at once; a job promotes the file after the commit
  // #endregion attach
  console.log(`saved photo ${photo.id}: image in "${photo.image?.storage}"`, photo.image?.metadata);

  await until('promotion', async () => (await stateOf(photo.id)) === 'store');
  const stored = await photos.findOneByOrFail({ id: photo.id });
  console.log(`promoted: image in "${stored.image?.storage}" as ${stored.image?.id}`);

  // #region replace
  const { token } = await attachments.cache(PNG, { filename: 'sunrise.png' });
  await attachments.attach(stored, 'image', token); // what a form sends after an upload
  await photos.save(stored); // the old file is deleted by a job, the new one promoted
  // #endregion replace
  await until('the replacement', async () => (await stateOf(photo.id)) === 'store');
  const replaced = await photos.findOneByOrFail({ id: photo.id });
  console.log(`replaced: image in "${replaced.image?.storage}" as ${replaced.image?.id}`);

  await photos.remove(replaced); // its files are deleted by a job
  const folders = ['cache', 'store'].map(
    (name) => new FileSystemStorage({ directory: join(uploads, name) }),
  );
  const empty = async (storage: FileSystemStorage) => (await storage.list().next()).done === true;
  await until('deletion', async () => (await empty(folders[0]!)) && (await empty(folders[1]!)));
  console.log(`removed: no file left in the cache or the store (${uploads})`);

  await app.close();
  await dataSource.destroy();
}

await main();
