import type { EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm';
import type { FileRef, UploadedFile } from '../../core/uploaded-file.js';
import { columnOf, jsonWrap, run, tableName, whereRecord } from './record-columns.js';

/**
 * Replaces, in an `@Attachments()` list, the element naming `cached` by `stored`, in one UPDATE
 * and only while the list still holds `cached`. Other elements, their order, and concurrent
 * replacements of other elements are left as the database has them. Returns whether it wrote.
 */
export async function replaceListElement(
  runner: QueryRunner,
  metadata: EntityMetadata,
  idMap: ObjectLiteral,
  property: string,
  cached: FileRef,
  stored: UploadedFile,
): Promise<boolean> {
  const driver = runner.connection.driver;
  const column = columnOf(metadata, property);
  const name = driver.escape(column.databaseName);
  const where = whereRecord(runner, metadata, idMap);
  let replaced: string;
  let holds: string;
  if (driver.options.type === 'postgres') {
    const matches = `e ->> 'id' = :cachedId AND e ->> 'storage' = :cachedStorage`;
    replaced =
      `(SELECT jsonb_agg(CASE WHEN ${matches} THEN CAST(:stored AS jsonb) ELSE e END ORDER BY n)` +
      ` FROM jsonb_array_elements((${name})::jsonb) WITH ORDINALITY AS x(e, n))`;
    replaced = `(${replaced})::${column.type === 'json' ? 'json' : 'jsonb'}`;
    holds = `EXISTS (SELECT 1 FROM jsonb_array_elements((${name})::jsonb) AS y(e) WHERE ${matches})`;
  } else {
    const list = jsonWrap(runner, column, name, false);
    const matches = `json_extract(value, '$.id') = :cachedId AND json_extract(value, '$.storage') = :cachedStorage`;
    const element = `CASE WHEN ${matches} THEN json(:stored) ELSE json(value) END`;
    replaced = jsonWrap(
      runner,
      column,
      `(SELECT json_group_array(${element} ORDER BY key) FROM json_each(${list}))`,
      true,
    );
    holds = `EXISTS (SELECT 1 FROM json_each(${list}) WHERE ${matches})`;
  }
  const sql =
    `UPDATE ${tableName(runner, metadata)} SET ${name} = ${replaced}` +
    ` WHERE ${where.sql} AND ${holds}`;
  const result = await run(runner, sql, {
    ...where.params,
    stored: JSON.stringify(stored),
    cachedId: cached.id,
    cachedStorage: cached.storage,
  });
  return (result.affected ?? 0) > 0;
}
