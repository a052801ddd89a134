import type { DataSource, EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import { AttachmentConfigurationError } from '../../core/errors/index.js';
import type { UploadedFile } from '../../core/uploaded-file.js';

/**
 * Raw, single-column reads and writes of attachment columns. The query builder would bump
 * version and update-date columns and fire listeners; a job must touch its column and nothing
 * else, so these helpers write plain SQL through the driver's escaping and parameters.
 */

type AttachmentValues = Record<string, UploadedFile | null>;

export function columnOf(metadata: EntityMetadata, property: string): ColumnMetadata {
  const column = metadata.findColumnWithPropertyName(property);
  if (!column) {
    throw new AttachmentConfigurationError(`${metadata.name} has no column for "${property}"`);
  }
  return column;
}

export function tableName(runner: QueryRunner, metadata: EntityMetadata): string {
  return metadata.tablePath
    .split('.')
    .map((part) => runner.connection.driver.escape(part))
    .join('.');
}

/** WHERE clause matching the record by primary key, excluding soft-deleted rows. */
export function whereRecord(runner: QueryRunner, metadata: EntityMetadata, idMap: ObjectLiteral) {
  const driver = runner.connection.driver;
  const params: ObjectLiteral = {};
  const parts = metadata.primaryColumns.map((column, index) => {
    params[`pk${index}`] = idMap[column.propertyPath];
    return `${driver.escape(column.databaseName)} = :pk${index}`;
  });
  if (metadata.deleteDateColumn) {
    parts.push(`${driver.escape(metadata.deleteDateColumn.databaseName)} IS NULL`);
  }
  return { sql: parts.join(' AND '), params };
}

/** SQL that extracts a top-level string field from a JSON column. */
export function jsonField(runner: QueryRunner, column: ColumnMetadata, field: string): string {
  const driver = runner.connection.driver;
  const name = driver.escape(column.databaseName);
  switch (driver.options.type) {
    case 'postgres':
      return `((${name})::jsonb ->> '${field}')`;
    default:
      return `json_extract(${name}, '$.${field}')`;
  }
}

/**
 * TypeORM keeps SQLite `jsonb` columns as binary JSONB: it reads them through `json()` and
 * writes through `jsonb()`. Raw SQL must do the same; other drivers take the column as is.
 */
export function jsonWrap(runner: QueryRunner, column: ColumnMetadata, sql: string, write: boolean) {
  const driver = runner.connection.driver as { wrapWithJsonFunction?: WrapJson };
  return driver.wrapWithJsonFunction ? driver.wrapWithJsonFunction(sql, column, write) : sql;
}

type WrapJson = (value: string, column: ColumnMetadata, jsonb?: boolean) => string;

export async function run(runner: QueryRunner, sql: string, params: ObjectLiteral) {
  const [query, parameters] = runner.connection.driver.escapeQueryWithParameters(sql, params);
  return runner.query(query, parameters, true);
}

/**
 * Reads the attachment columns of a live record; null when the record is gone or soft-deleted.
 * `lock` takes a row lock until the transaction ends, where the database has row locks.
 */
export async function readAttachmentColumns(
  runner: QueryRunner,
  metadata: EntityMetadata,
  idMap: ObjectLiteral,
  properties: readonly string[],
  options: { lock?: boolean } = {},
): Promise<AttachmentValues | null> {
  const driver = runner.connection.driver;
  const columns = properties.map((property) => columnOf(metadata, property));
  const where = whereRecord(runner, metadata, idMap);
  const select = columns
    .map((column, i) => {
      const value = jsonWrap(runner, column, driver.escape(column.databaseName), false);
      return `${value} AS ${driver.escape(`c${i}`)}`;
    })
    .join(', ');
  // SQLite has no row locks; its single writer serializes the transactions instead.
  const lock =
    options.lock && runner.isTransactionActive && driver.options.type !== 'better-sqlite3'
      ? ' FOR UPDATE'
      : '';
  const sql = `SELECT ${select} FROM ${tableName(runner, metadata)} WHERE ${where.sql}${lock}`;
  const result = await run(runner, sql, where.params);
  const row = (result.records as ObjectLiteral[])[0];
  if (!row) return null;
  const values: AttachmentValues = {};
  columns.forEach((column, i) => {
    const raw = row[`c${i}`];
    values[properties[i]!] =
      raw === null || raw === undefined ? null : driver.prepareHydratedValue(raw, column);
  });
  return values;
}

/** The same read on a connection held only for this query, outside any transaction. */
export async function readColumnsNow(
  dataSource: DataSource,
  metadata: EntityMetadata,
  idMap: ObjectLiteral,
  properties: readonly string[],
): Promise<AttachmentValues | null> {
  const runner = dataSource.createQueryRunner();
  try {
    return await readAttachmentColumns(runner, metadata, idMap, properties);
  } finally {
    await runner.release();
  }
}

/**
 * Sets the column to `next` only if it still names `expected`, in one statement, so the check
 * and the write happen under the row lock the UPDATE takes. Returns whether it wrote.
 */
export async function compareAndSetAttachment(
  runner: QueryRunner,
  metadata: EntityMetadata,
  idMap: ObjectLiteral,
  property: string,
  expected: UploadedFile,
  next: UploadedFile,
): Promise<boolean> {
  const driver = runner.connection.driver;
  const column = columnOf(metadata, property);
  const where = whereRecord(runner, metadata, idMap);
  const sql =
    `UPDATE ${tableName(runner, metadata)} SET ${driver.escape(column.databaseName)} = ` +
    jsonWrap(runner, column, ':next', true) +
    ` WHERE ${where.sql} AND ${jsonField(runner, column, 'id')} = :expectedId` +
    ` AND ${jsonField(runner, column, 'storage')} = :expectedStorage`;
  const result = await run(runner, sql, {
    ...where.params,
    next: driver.preparePersistentValue(next, column),
    expectedId: expected.id,
    expectedStorage: expected.storage,
  });
  return (result.affected ?? 0) > 0;
}
