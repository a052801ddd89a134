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
  const target = { runner, metadata, idMap, property, element: cached };
  return rewriteElement(target, 'replaceElement', { stored: JSON.stringify(stored) });
}

export interface ElementTarget {
  runner: QueryRunner;
  metadata: EntityMetadata;
  idMap: ObjectLiteral;
  property: string;
  /** The element the write rewrites, by id and storage. */
  element: FileRef;
}

/**
 * Rewrites the list column by the dialect's `rewrite`, in one UPDATE and only while the list
 * holds the element; other elements, their order, and concurrent writes to them stay as the
 * database has them. Returns whether it wrote.
 */
export function rewriteElement(
  { runner, metadata, idMap, property, element }: ElementTarget,
  rewrite: 'replaceElement' | 'mergeElementDerivative',
  values: ObjectLiteral,
): Promise<boolean> {
  const { dialect, table, column, name, where, params } = statementFor(
    runner,
    metadata,
    idMap,
    property,
  );
  const value = dialect[rewrite](column, name);
  const sql =
    `UPDATE ${table} SET ${name} = ${value}` +
    ` WHERE ${where} AND ${dialect.holdsElement(column, name)}` +
    dialect.changes(column, name, value);
  return update(runner, sql, {
    ...params,
    ...values,
    elementId: element.id,
    elementStorage: element.storage,
  });
}
