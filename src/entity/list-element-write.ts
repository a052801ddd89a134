import type { EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm';
import { sameFile, type UploadedFile } from '../core/uploaded-file.js';
import { listOf } from './list-changes.js';
import { replaceListElement } from './list-columns.js';
import { readAttachmentColumns } from './record-columns.js';
import { serialized } from './serialized-transactions.js';

export interface ListElementWrite {
  written: boolean;
  /** The list after the write, when this write promoted its last cached file; else null. */
  completed: UploadedFile[] | null;
}

/**
 * Replaces one cached element of a list by its stored version under the row lock, and tells
 * whether that write left no cached file in the list. Promotions of one record take the lock in
 * turn, so exactly one of them sees the list complete.
 */
export function writeListElement(
  runner: QueryRunner,
  metadata: EntityMetadata,
  idMap: ObjectLiteral,
  property: string,
  cached: UploadedFile,
  stored: UploadedFile,
  cacheStorage: string,
): Promise<ListElementWrite> {
  return serialized(runner.connection, async () => {
    await runner.startTransaction();
    try {
      const values = await readAttachmentColumns(runner, metadata, idMap, [property], {
        lock: true,
      });
      const list = listOf(values?.[property]);
      const written =
        list.some((file) => sameFile(file, cached)) &&
        (await replaceListElement(runner, metadata, idMap, property, cached, stored));
      const after = list.map((file) => (sameFile(file, cached) ? stored : file));
      await runner.commitTransaction();
      const complete = written && !after.some((file) => file.storage === cacheStorage);
      return { written, completed: complete ? after : null };
    } catch (error) {
      await runner.rollbackTransaction();
      throw error;
    }
  });
}
