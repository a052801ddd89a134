import type { EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm';
import type { FileRef, UploadedFile } from '../../core/uploaded-file.js';
import { columnOf, jsonField, jsonWrap, run, tableName, whereRecord } from './record-columns.js';

/**
 * Adds (or replaces) one entry of the column's `derivatives` map in a single UPDATE, and only
 * while the column still holds `original`. The database merges into the value it has at that
 * moment, so derivative jobs finishing together never overwrite each other's entries.
 * Returns whether it wrote.
 */
export async function mergeDerivative(
  runner: QueryRunner,
  metadata: EntityMetadata,
  idMap: ObjectLiteral,
  property: string,
  original: FileRef,
  name: string,
  derivative: UploadedFile,
): Promise<boolean> {
  const driver = runner.connection.driver;
  const column = columnOf(metadata, property);
  const name_ = driver.escape(column.databaseName);
  const where = whereRecord(runner, metadata, idMap);
  let merged: string;
  if (driver.options.type === 'postgres') {
    merged =
      `jsonb_set((${name_})::jsonb, '{derivatives}', ` +
      `COALESCE((${name_})::jsonb -> 'derivatives', '{}'::jsonb) || ` +
      `jsonb_build_object(CAST(:name AS text), CAST(:derivative AS jsonb)))`;
    merged = `(${merged})::${column.type === 'json' ? 'json' : 'jsonb'}`;
  } else {
    const current = jsonWrap(runner, column, name_, false);
    const withMap =
      `json_set(${current}, '$.derivatives', ` +
      `json(COALESCE(json_extract(${current}, '$.derivatives'), '{}')))`;
    merged = jsonWrap(runner, column, `json_set(${withMap}, :path, json(:derivative))`, true);
  }
  const sql =
    `UPDATE ${tableName(runner, metadata)} SET ${name_} = ${merged}` +
    ` WHERE ${where.sql} AND ${jsonField(runner, column, 'id')} = :originalId` +
    ` AND ${jsonField(runner, column, 'storage')} = :originalStorage`;
  const result = await run(runner, sql, {
    ...where.params,
    name,
    path: `$.derivatives."${name}"`,
    derivative: JSON.stringify(derivative),
    originalId: original.id,
    originalStorage: original.storage,
  });
  return (result.affected ?? 0) > 0;
}
