import type { DataSource, EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import { AttachmentConfigurationError, type UploadedFile } from '../../core/index.js';
import { dialectOf } from './dialect-of.js';
import { whereMatch, withRunner, type RowMatch } from './rows.js';
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
  const dialect = dialectOf(runner.connection);
  const columns = properties.map((property) => columnOf(metadata, property));
  const { where, params } = whereRecord(runner, metadata, idMap);
  const lock = options.lock && runner.isTransactionActive ? dialect.rowLock : '';
  const sql = `SELECT ${selectColumns(runner, columns)} FROM ${tableName(runner, metadata)} WHERE ${where}${lock}`;
  const result = await run(runner, sql, params);
  const row = (result.records as ObjectLiteral[])[0];
  return row ? hydrate(runner, columns, properties, row) : null;
}

/**
 * The same read, made in the statement that checks a row of another table (the work's own
 * outbox row, say), on a connection held only for it: null when that row does not match;
 * else the record's values, null when the record is gone or soft-deleted.
 */
export async function readColumnsWhileRow(
  dataSource: DataSource,
  metadata: EntityMetadata,
  idMap: ObjectLiteral,
  properties: readonly string[],
  guard: RowMatch,
): Promise<{ values: AttachmentValues | null } | null> {
  return withRunner(dataSource.manager, async (runner) => {
    const driver = runner.connection.driver;
    const columns = properties.map((property) => columnOf(metadata, property));
    const record = whereRecord(runner, metadata, idMap, 'r');
    const row = whereMatch(runner, guard, 'g', 'g');
    const [key] = metadata.primaryColumns;
    if (!key) throw new AttachmentConfigurationError(`${metadata.name} has no primary key`);
    const found = `${driver.escape('r')}.${driver.escape(key.databaseName)} AS ${driver.escape('k')}`;
    const sql =
      `SELECT ${found}, ${selectColumns(runner, columns, 'r')}` +
      ` FROM ${tableName(runner, guard.metadata)} ${driver.escape('g')}` +
      ` LEFT JOIN ${tableName(runner, metadata)} ${driver.escape('r')} ON ${record.where}` +
      ` WHERE ${row.where}`;
    const result = await run(runner, sql, { ...record.params, ...row.params });
    const first = (result.records as ObjectLiteral[])[0];
    if (!first) return null;
    const present = first.k !== null && first.k !== undefined;
    return { values: present ? hydrate(runner, columns, properties, first) : null };
  });
}

/** The columns as JSON values named `c0`, `c1`...; with `alias`, qualified by it. */
function selectColumns(runner: QueryRunner, columns: readonly ColumnMetadata[], alias = '') {
  const driver = runner.connection.driver;
  const dialect = dialectOf(runner.connection);
  const qualifier = alias ? `${driver.escape(alias)}.` : '';
  return columns
    .map((column, i) => {
      const value = dialect.readJson(column, `${qualifier}${driver.escape(column.databaseName)}`);
      return `${value} AS ${driver.escape(`c${i}`)}`;
    })
    .join(', ');
}

function hydrate(
  runner: QueryRunner,
  columns: readonly ColumnMetadata[],
  properties: readonly string[],
  row: ObjectLiteral,
): AttachmentValues {
  const driver = runner.connection.driver;
  const values: AttachmentValues = {};
  columns.forEach((column, i) => {
    const raw: unknown = row[`c${i}`];
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
  return withRunner(dataSource.manager, (runner) =>
    readAttachmentColumns(runner, metadata, idMap, properties),
  );
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
