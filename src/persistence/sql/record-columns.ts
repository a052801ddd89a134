import type { DataSource, EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm';
import type { UploadedFile } from '../../core/index.js';
import { dialectOf } from './dialect-of.js';
import { columnOf, run, statementFor, tableName, update, whereRecord } from './statement.js';

type AttachmentValues = Record<string, UploadedFile | null>;

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
  const dialect = dialectOf(runner.connection);
  const columns = properties.map((property) => columnOf(metadata, property));
  const { where, params } = whereRecord(runner, metadata, idMap);
  const select = columns
    .map((column, i) => {
      const value = dialect.readJson(column, driver.escape(column.databaseName));
      return `${value} AS ${driver.escape(`c${i}`)}`;
    })
    .join(', ');
  const lock = options.lock && runner.isTransactionActive ? dialect.rowLock : '';
  const sql = `SELECT ${select} FROM ${tableName(runner, metadata)} WHERE ${where}${lock}`;
  const result = await run(runner, sql, params);
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
export function compareAndSetAttachment(
  runner: QueryRunner,
  metadata: EntityMetadata,
  idMap: ObjectLiteral,
  property: string,
  expected: UploadedFile,
  next: UploadedFile,
): Promise<boolean> {
  const { dialect, table, column, name, where, params } = statementFor(
    runner,
    metadata,
    idMap,
    property,
  );
  const value = dialect.writeJson(column, ':next');
  const sql =
    `UPDATE ${table} SET ${name} = ${value}` +
    ` WHERE ${where} AND ${dialect.jsonText(name, 'id')} = :expectedId` +
    ` AND ${dialect.jsonText(name, 'storage')} = :expectedStorage` +
    dialect.changes(column, name, value);
  return update(runner, sql, {
    ...params,
    next: runner.connection.driver.preparePersistentValue(next, column),
    expectedId: expected.id,
    expectedStorage: expected.storage,
  });
}
