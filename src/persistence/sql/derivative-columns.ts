import type { EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm';
import type { FileRef, UploadedFile } from '../../core/index.js';
import { rewriteElement } from './list-columns.js';
import { statementFor, update } from './statement.js';

/**
 * Adds (or replaces) one entry of the column's `derivatives` map in a single UPDATE, and only
 * while the column still holds `original`. The database merges into the value it has at that
 * moment, so derivative jobs finishing together never overwrite each other's entries. With
 * `inList`, the column is an `@Attachments()` list and the entry goes into the map of the
 * element naming `original`, while the list holds it. Returns whether it wrote.
 */
export function mergeDerivative(
  runner: QueryRunner,
  metadata: EntityMetadata,
  idMap: ObjectLiteral,
  property: string,
  original: FileRef,
  name: string,
  derivative: UploadedFile,
  options: { inList?: boolean } = {},
): Promise<boolean> {
  const values = { name, path: `$.derivatives."${name}"`, derivative: JSON.stringify(derivative) };
  if (options.inList) {
    const target = { runner, metadata, idMap, property, element: original };
    return rewriteElement(target, 'mergeElementDerivative', values);
  }
  const statement = statementFor(runner, metadata, idMap, property);
  const { dialect, table, column, where, params } = statement;
  const next = dialect.mergeDerivative(column, statement.name);
  const sql =
    `UPDATE ${table} SET ${statement.name} = ${next}` +
    ` WHERE ${where} AND ${dialect.jsonText(statement.name, 'id')} = :originalId` +
    ` AND ${dialect.jsonText(statement.name, 'storage')} = :originalStorage` +
    dialect.changes(column, statement.name, next);
  return update(runner, sql, {
    ...params,
    ...values,
    originalId: original.id,
    originalStorage: original.storage,
  });
}
