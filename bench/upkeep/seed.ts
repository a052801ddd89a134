/**
 * Fills an upkeep side fast: outbox rows and claims in bulk with one INSERT ... SELECT each,
 * cached files with a pool of concurrent writes, all named and shaped as the library's own.
 */
import { utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { newFileId } from '../../src/core/index.js';

const DELETE_PAYLOAD = JSON.stringify({ kind: 'delete', reason: 'removed', files: [] });
const DAY = 24 * 3600_000;

/**
 * Pending outbox rows `from..to` for records of `entity` (one row each): every `dueEvery`th is
 * due for a relay check now (id `due-<n>`), the others later (`later-<n>`).
 */
export async function insertWork(
  dataSource: DataSource,
  rows: { from: number; to: number; dueEvery: number; entity: string },
): Promise<void> {
  const now = Date.now();
  await dataSource.query(
    `INSERT INTO attachment_work
       (id, kind, entity, "recordId", payload, status, attempts, "createdAt", "availableAt", "relayAt")
     SELECT CASE WHEN i % $3 = 0 THEN 'due-' ELSE 'later-' END || i, 'delete', $4,
            '{"id":' || i || '}', $5, 'pending', 0, $6::bigint, $6::bigint,
            CASE WHEN i % $3 = 0 THEN $7::bigint ELSE $8::bigint END
     FROM generate_series($1::int, $2::int) AS i`,
    [rows.from, rows.to, rows.dueEvery, rows.entity, DELETE_PAYLOAD, now - 60_000, now, now + DAY],
  );
  await dataSource.query('ANALYZE attachment_work');
}

/** Makes the `due-` rows due again (a relay pass moves their next check later). */
export async function makeWorkDue(dataSource: DataSource): Promise<void> {
  await dataSource.query(`UPDATE attachment_work SET "relayAt" = $1 WHERE id LIKE 'due-%'`, [
    Date.now() - 1000,
  ]);
}

/** `count` claims named after `tag`; every `expiredEvery`th has expired. */
export async function insertClaims(
  dataSource: DataSource,
  claims: { tag: string; count: number; expiredEvery: number },
): Promise<void> {
  const now = Date.now();
  await dataSource.query(
    `INSERT INTO attachment_claims ("fileKey", "fileId", "claimedAt", "expiresAt")
     SELECT encode(sha256(convert_to($1 || i, 'UTF8')), 'hex'), $1 || i || '.png', $4::bigint,
            CASE WHEN i % $3 = 0 THEN $5::bigint ELSE $6::bigint END
     FROM generate_series(1, $2::int) AS i`,
    [claims.tag, claims.count, claims.expiredEvery, now - 60_000, now - 1000, now + DAY],
  );
}

const WRITERS = 64;
const CONTENT = Buffer.from('cached bytes of a bench file\n');

/**
 * Writes `count` small cached files into the cache folder, as the library names them (a UUID
 * and an extension, at the root), with `writers` writes in flight; every `expiredEvery`th is
 * given an mtime older than `ttl`. Each is named as `newFileId()` would have named it when it
 * was written, at that mtime: the time-ordered UUID carries the time, so an aged file is not
 * one named now (which no upload can produce).
 */
export async function writeCachedFiles(
  directory: string,
  files: { count: number; expiredEvery: number; ttl: number },
): Promise<void> {
  const expiredAt = new Date(Date.now() - files.ttl - 3600_000);
  let next = 0;
  const writer = async () => {
    for (let i = next++; i < files.count; i = next++) {
      const expired = i % files.expiredEvery === 0;
      const file = join(directory, newFileId('.png', expired ? expiredAt.getTime() : Date.now()));
      await writeFile(file, CONTENT);
      if (expired) await utimes(file, expiredAt, expiredAt);
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, writer));
}
