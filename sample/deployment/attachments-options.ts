import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { FileSystemStorage, type AttachmentsModuleOptions } from '../../src/index.js';

/**
 * The module's options for both processes, from the environment: DATABASE_URL (through the
 * DataSource), REDIS_URL, UPLOADS_DIR, QUEUE_PREFIX and ATTACHMENTS_SECRET. Web processes pass
 * `worker: false`; the worker process runs the jobs.
 */
export function attachmentsOptions(
  dataSource: DataSource,
  worker: boolean,
): AttachmentsModuleOptions {
  const redis = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const uploads = process.env.UPLOADS_DIR ?? 'uploads';
  const secret = process.env.ATTACHMENTS_SECRET;
  if (!secret) throw new Error('Set ATTACHMENTS_SECRET (at least 32 characters)');
  return {
    dataSource,
    storages: {
      cache: new FileSystemStorage({ directory: join(uploads, 'cache') }),
      store: new FileSystemStorage({ directory: join(uploads, 'store') }),
    },
    connection: { host: redis.hostname, port: Number(redis.port || 6379) },
    queuePrefix: process.env.QUEUE_PREFIX ?? 'photos',
    secret,
    worker,
  };
}
