import type { EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm';
import type { FileRef, UploadedFile } from '../../core/index.js';
import { statementFor, update } from './statement.js';

/**
 * Replaces, in an `@Attachments()` list, the element naming `cached` by `stored`, in one UPDATE
 * and only while the list still holds `cached`. Other elements, their order, and concurrent
 * replacements of other elements are left as the database has them. Returns whether it wrote.
 */
export function replaceListElement(
  runner: QueryRunner,
  metadata: EntityMetadata,
  idMap: ObjectLiteral,
  property: string,
  cached: FileRef,
  stored: UploadedFile,
): Promise<boolean> {
  const { dialect, table, column, name, where, params } = statementFor(
    runner,
    metadata,
    idMap,
    property,
  );
  const next = dialect.replaceElement(column, name);
  const sql =
    `UPDATE ${table} SET ${name} = ${next}` +
    ` WHERE ${where} AND ${dialect.holdsElement(column, name)}` +
    dialect.changes(column, name, next);
  return update(runner, sql, {
    ...params,
    stored: JSON.stringify(stored),
    cachedId: cached.id,
    cachedStorage: cached.storage,
  });
}
