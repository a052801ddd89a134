/**
 * The floor: a plain BullMQ worker doing the least a correct promotion of the backlog needs on
 * the same tables and folders as ours. Per job: read the column by id; hard link the cached
 * file to its target (making the folder first); then, in one transaction, point the column at
 * the stored file only if it still holds the cached one, and delete the outbox row.
 */
import { link, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Worker, type Job } from 'bullmq';
import pg from 'pg';
import { ATTACHMENTS_QUEUE, type UploadedFile } from '../../src/index.js';
import type { PromoteJobData } from '../../src/core/index.js';
import { redisConnection } from '../../test/support/harness.js';
import { POOL_SIZE, type WorkerRunConfig } from './protocol.js';
import { flushPoolStatistics, type BootedWorker } from './statistics.js';

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

export async function startFloorWorker(config: WorkerRunConfig): Promise<BootedWorker> {
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: POOL_SIZE });
  const [table, id, column] = [config.table, config.idColumn, config.column].map(quoted);
  const select = `SELECT ${column} AS file FROM ${table} WHERE ${id} = $1`;
  const update = `UPDATE ${table} SET ${column} = $2 WHERE ${id} = $1 AND ${column} ->> 'id' = $3`;
  const finish = `DELETE FROM ${quoted(config.workTable)} WHERE "id" = $1`;

  const promote = async (job: Job<PromoteJobData>): Promise<void> => {
    const data = job.data;
    if (data.kind !== 'promote') throw new Error(`the floor promotes only, not ${data.kind}`);
    const recordId = Object.values(data.recordId)[0];
    const { rows } = await pool.query<{ file: UploadedFile | null }>(select, [recordId]);
    const holdsCached = rows[0]?.file?.id === data.file.id;
    const stored: UploadedFile = { ...data.target, metadata: data.file.metadata };
    if (holdsCached) {
      const target = join(config.storeDirectory, data.target.id);
      await mkdir(dirname(target), { recursive: true });
      await link(join(config.cacheDirectory, data.file.id), target).catch((error: unknown) => {
        // A retried job finds its own link in place.
        if (!(error instanceof Error && 'code' in error && error.code === 'EEXIST')) throw error;
      });
    }
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      if (holdsCached) await client.query(update, [recordId, stored, data.file.id]);
      await client.query(finish, [data.workId]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  };

  const worker = new Worker<PromoteJobData>(ATTACHMENTS_QUEUE, promote, {
    connection: { ...redisConnection(), maxRetriesPerRequest: null },
    prefix: config.queuePrefix,
    concurrency: config.concurrency,
    autorun: false,
  });
  worker.on('error', (error) => process.stderr.write(`floor worker: ${String(error)}\n`));
  await worker.waitUntilReady();
  // The queue is paused: the worker waits for the resume that starts the clock.
  worker.run().catch((error: unknown) => process.stderr.write(`floor worker: ${String(error)}\n`));
  return {
    flushStatistics: () => flushPoolStatistics(() => pool.connect(), POOL_SIZE),
    async close() {
      await worker.close();
      await pool.end();
    },
  };
}
