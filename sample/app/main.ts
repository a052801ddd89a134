/**
 * The sample app: a page that uploads photos straight to the library's endpoint and shows each
 * one's way through the jobs (server-sent events at GET /events), and a small JSON API around a
 * Photo entity and an Album entity. `npm run sample`, then open the printed URL.
 *
 * Environment (all optional): PORT (3000), UPLOADS_DIR (sample/uploads), DATABASE_URL (a
 * postgres://, mysql:// or mariadb:// URL; SQLite in UPLOADS_DIR otherwise), REDIS_URL
 * (redis://127.0.0.1:6379), QUEUE_PREFIX (sample), ATTACHMENTS_SECRET (at least 32 characters),
 * HTTP_PLATFORM (`express`, or `fastify` to run on @nestjs/platform-fastify; the app and the
 * module are the same on both).
 *
 * S3 instead of folders: S3_BUCKET turns it on; then S3_ENDPOINT (an S3-compatible server such
 * as MinIO; AWS when unset), S3_REGION (us-east-1), S3_FORCE_PATH_STYLE (true when S3_ENDPOINT
 * is set, false otherwise), and credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or
 * any other source the AWS SDK reads). The bucket must allow the page's origin to POST in its
 * CORS rules: the page uploads to it directly.
 */
import 'reflect-metadata';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { INestApplication, NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule, databaseType, type SampleSettings } from './app.module.js';
import { bucketProblem, describeStorage, type SampleS3Settings } from './storage.js';

/** S3 settings, undefined without S3_BUCKET, or what is wrong with them. */
function s3FromEnvironment(): SampleS3Settings | undefined | string {
  const bucket = process.env.S3_BUCKET || undefined;
  if (!bucket) return undefined;
  const endpoint = process.env.S3_ENDPOINT || undefined;
  if (endpoint && !(URL.canParse(endpoint) && /^https?:$/.test(new URL(endpoint).protocol))) {
    return 'S3_ENDPOINT must be an http:// or https:// URL; leave it unset for AWS.';
  }
  const pathStyle = (process.env.S3_FORCE_PATH_STYLE || '').toLowerCase();
  if (pathStyle && !['true', 'false', '1', '0'].includes(pathStyle)) {
    return 'S3_FORCE_PATH_STYLE must be true or false.';
  }
  return {
    bucket,
    endpoint,
    region: process.env.S3_REGION || 'us-east-1',
    // S3-compatible servers rarely have a DNS name per bucket.
    forcePathStyle: pathStyle ? pathStyle === 'true' || pathStyle === '1' : Boolean(endpoint),
  };
}

/** The HTTP adapter under the app: the module and the app's code are the same on both. */
type HttpPlatform = 'express' | 'fastify';

function settingsFromEnvironment(): (SampleSettings & { platform: HttpPlatform }) | string {
  const databaseUrl = process.env.DATABASE_URL || undefined;
  if (databaseUrl && !databaseType(databaseUrl)) {
    return (
      'DATABASE_URL must be a postgres://, mysql:// or mariadb:// URL; ' +
      'leave it unset to use SQLite.'
    );
  }
  const s3 = s3FromEnvironment();
  if (typeof s3 === 'string') return s3;
  const platform = (process.env.HTTP_PLATFORM || 'express').toLowerCase();
  if (platform !== 'express' && platform !== 'fastify') {
    return 'HTTP_PLATFORM must be express or fastify.';
  }
  const defaultUploads = fileURLToPath(new URL('../../../sample/uploads', import.meta.url));
  return {
    platform,
    uploads: resolve(process.env.UPLOADS_DIR || defaultUploads),
    s3,
    databaseUrl,
    redisUrl: new URL(process.env.REDIS_URL || 'redis://127.0.0.1:6379'),
    queuePrefix: process.env.QUEUE_PREFIX || 'sample',
    // A fixed default keeps tokens valid across restarts of the sample; never in production.
    secret:
      process.env.ATTACHMENTS_SECRET || 'sample-only-secret-set-ATTACHMENTS_SECRET-in-production',
  };
}

/** The app on Express, or on Fastify; each adapter is loaded only when it is the one used. */
async function createApp(module: object, platform: HttpPlatform): Promise<INestApplication> {
  const options: NestApplicationOptions = { logger: ['error', 'warn'] };
  if (platform === 'express') return NestFactory.create(module, options);
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  return NestFactory.create(module, new FastifyAdapter(), options);
}

async function main(): Promise<void> {
  const settings = settingsFromEnvironment();
  if (typeof settings === 'string') {
    console.error(settings);
    process.exitCode = 1;
    return;
  }
  // Redis may be down: the app starts anyway, saves go on, and the library says so in one line.
  const unusable = settings.s3 && (await bucketProblem(settings.s3));
  if (unusable) {
    console.error(unusable);
    process.exitCode = 1;
    return;
  }
  await mkdir(settings.uploads, { recursive: true }); // SQLite does not create folders
  const app = await createApp(AppModule.register(settings), settings.platform);
  app.enableShutdownHooks(); // Ctrl-C closes the workers, so their jobs are not left locked
  await app.listen(Number(process.env.PORT || 3000));
  const { port } = app.getHttpServer().address() as AddressInfo;
  console.log(`Sample app listening on http://localhost:${port}/${describeStorage(settings.s3)}`);
}

await main();
