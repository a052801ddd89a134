/**
 * The sample app: a page that uploads photos straight to the library's endpoint, and a small
 * JSON API around a Photo entity. `npm run sample`, then open the printed URL.
 *
 * Environment (all optional): PORT (3000), UPLOADS_DIR (sample/uploads), DATABASE_URL (a
 * postgres:// URL; SQLite in UPLOADS_DIR otherwise), REDIS_URL (redis://127.0.0.1:6379),
 * QUEUE_PREFIX (sample), ATTACHMENTS_SECRET (at least 32 characters).
 */
import 'reflect-metadata';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { redisIsUp } from '../redis-check.js';
import { AppModule, redisOptions, type SampleSettings } from './app.module.js';

function settingsFromEnvironment(): SampleSettings | string {
  const databaseUrl = process.env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    return 'DATABASE_URL must be a postgres:// URL; leave it unset to use SQLite.';
  }
  const defaultUploads = fileURLToPath(new URL('../../../sample/uploads', import.meta.url));
  return {
    uploads: resolve(process.env.UPLOADS_DIR || defaultUploads),
    databaseUrl,
    redisUrl: new URL(process.env.REDIS_URL || 'redis://127.0.0.1:6379'),
    queuePrefix: process.env.QUEUE_PREFIX || 'sample',
    // A fixed default keeps tokens valid across restarts of the sample; never in production.
    secret:
      process.env.ATTACHMENTS_SECRET || 'sample-only-secret-set-ATTACHMENTS_SECRET-in-production',
  };
}

async function main(): Promise<void> {
  const settings = settingsFromEnvironment();
  if (typeof settings === 'string') {
    console.error(settings);
    process.exitCode = 1;
    return;
  }
  if (!(await redisIsUp(redisOptions(settings.redisUrl)))) {
    console.error(
      `Redis is not reachable at ${settings.redisUrl.host}; start it (e.g. \`redis-server --daemonize yes\`) or set REDIS_URL.`,
    );
    process.exitCode = 1;
    return;
  }
  await mkdir(settings.uploads, { recursive: true }); // SQLite does not create folders
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(settings), {
    logger: ['error', 'warn'],
  });
  app.enableShutdownHooks(); // Ctrl-C closes the workers, so their jobs are not left locked
  await app.listen(Number(process.env.PORT || 3000));
  const { port } = app.getHttpServer().address() as AddressInfo;
  console.log(`Sample app listening on http://localhost:${port}/`);
}

await main();
