import type { EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm';
import type { FileRef, UploadedFile } from '../../core/index.js';
import { statementFor, update } from './statement.js';

/**
 * Adds (or replaces) one entry of the column's `derivatives` map in a single UPDATE, and only
 * while the column still holds `original`. The database merges into the value it has at that
 * moment, so derivative jobs finishing together never overwrite each other's entries.
 * Returns whether it wrote.
 */
export function mergeDerivative(
  runner: QueryRunner,
  metadata: EntityMetadata,
  idMap: ObjectLiteral,
  property: string,
  original: FileRef,
  name: string,
  derivative: UploadedFile,
): Promise<boolean> {
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
    name,
    path: `$.derivatives."${name}"`,
    derivative: JSON.stringify(derivative),
    originalId: original.id,
    originalStorage: original.storage,
  });
}
