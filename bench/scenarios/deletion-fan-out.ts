/**
 * Scenario 5: how many S3 requests deleting a record with 1, 10 and 2,500 files takes, through
 * the real path (remove → subscriber → outbox → BullMQ delete job → `deleteMany`), beside one
 * DeleteObject per file.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Attachments, attachmentEntities, type UploadedFile } from '../../src/index.js';
import { S3Storage } from '../../src/s3/index.js';
import { createTestDatabase, type TestDatabase } from '../../test/support/databases.js';
import { startHarness, waitForIdle, type Harness } from '../../test/support/harness.js';
import { recordCommands, startS3rver } from '../../test/support/s3rver.js';
import type { BenchOptions, BenchRow, BenchScenario } from '../lib/result.js';

@Entity()
class BenchAlbum {
  @PrimaryGeneratedColumn()
  id!: number;

  @Attachments()
  files!: UploadedFile[] | null;
}

/** S3's limit on the keys of one DeleteObjects request. */
const DELETE_OBJECTS_LIMIT = 1000;
/** Uploads in flight while filling the store: enough to keep s3rver busy, not to swamp it. */
const UPLOAD_PARALLELISM = 16;
const CONTENT = Buffer.from('bench file\n');

/** Runs `work` for each item, at most `limit` at a time. */
async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * `count` small files put straight into the store, as they would be after promotion. Promoting
 * 2,500 cached files through jobs would measure promotion, not deletion, and take minutes.
 */
async function storedFiles(store: S3Storage, count: number): Promise<UploadedFile[]> {
  const files = Array.from({ length: count }, (_, n) => ({
    id: `bench_album/${count}/${randomUUID()}.txt`,
    storage: 'store',
    metadata: { filename: `${n}.txt`, size: CONTENT.length, mimeType: 'text/plain' },
  }));
  await eachLimited(files, UPLOAD_PARALLELISM, (file) => store.upload(file.id, CONTENT));
  return files;
}

export default async function deletionFanOut(_options: BenchOptions): Promise<BenchScenario> {
  // The same counts in the quick run: filling the store is the only cost, and it is small.
  const counts = [1, 10, 2500];
  const s3 = await startS3rver();
  let db: TestDatabase | undefined;
  let harness: Harness | undefined;
  const rows: BenchRow[] = [];
  try {
    const client = s3.client();
    const log = recordCommands(client);
    const bucket = s3.bucket;
    const store = new S3Storage({ client, bucket, prefix: 'store/' });
    const storages = { cache: new S3Storage({ client, bucket, prefix: 'cache/' }), store };
    db = await createTestDatabase('postgres', [BenchAlbum, ...attachmentEntities]);
    harness = await startHarness({ dataSource: db.dataSource, storages, cacheDeleteDelay: 0 });
    const albums = db.dataSource.getRepository(BenchAlbum);

    for (const count of counts) {
      // Stored files (storage 'store') are not promoted, so a plain save keeps them as they are.
      const album = await albums.save(albums.create({ files: await storedFiles(store, count) }));
      await waitForIdle(harness, db.dataSource);

      log.clear();
      const started = performance.now();
      await albums.remove(album);
      await waitForIdle(harness, db.dataSource, 120_000);
      const ms = performance.now() - started;

      // Everything the client sent between the remove and idle counts, not only DeleteObjects.
      const names = [...log.names];
      const keys = log.inputs
        .filter((_, n) => names[n] === 'DeleteObjectsCommand')
        .map((input) => (input as { Delete: { Objects: unknown[] } }).Delete.Objects.length);
      const maxKeys = Math.max(0, ...keys);
      if (maxKeys > DELETE_OBJECTS_LIMIT) {
        throw new Error(`a DeleteObjects request named ${maxKeys} keys (limit 1000)`);
      }
      if (keys.reduce((sum, n) => sum + n, 0) !== count) {
        throw new Error(`DeleteObjects named ${keys.join('+')} keys for ${count} files`);
      }
      const left = await store.list().next();
      if (!left.done) throw new Error(`store/ still holds ${left.value.id} after ${count} files`);

      const others = names.filter((name) => name !== 'DeleteObjectsCommand');
      rows.push({
        case: `${count.toLocaleString('en-US')} ${count === 1 ? 'file' : 'files'}`,
        metric: 'S3 requests',
        baseline: count,
        subject: names.length,
        ratio: names.length / count,
        repetitions: 1,
        extra: {
          'DeleteObjects requests': keys.length,
          'other requests': others.length === 0 ? 'none' : others.join(', '),
          'keys per request (max)': maxKeys,
          'ms from remove() to idle': Math.round(ms),
        },
      });
    }
  } finally {
    await harness?.close();
    await db?.close();
    await s3.stop();
  }
  return {
    id: 'deletion-fan-out',
    title: 'Deletion fan-out: S3 requests to delete a record and its files',
    subject: 'remove() → delete job → S3Storage.deleteMany (DeleteObjects, ≤ 1000 keys each)',
    baseline: 'one DeleteObject request per file (computed as N, not run)',
    rows,
    better: 'lower',
    notes: [
      'The baseline is not run: a per-file delete sends exactly one DeleteObject per file, so it ' +
        'is N requests by definition.',
      'The subject is every request the S3 client sent from repository.remove() until the ' +
        'outbox and queue were idle, on PostgreSQL with both storages on one s3rver bucket.',
      "The store's files were uploaded directly and saved as stored values: promotion is " +
        'measured in its own scenario. The store prefix was checked to be empty afterwards.',
      'A count, so one repetition; the milliseconds are for information only.',
    ],
  };
}
