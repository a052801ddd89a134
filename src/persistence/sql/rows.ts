import type { EntityManager, EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import { dialectOf } from './dialect-of.js';
import { columnOf, run, tableName } from './statement.js';

/**
 * Plain statements on whole rows of a table the library owns (its outbox), for the paths every
 * job takes: the repository and query builder spend more CPU building these statements and
 * turning their results into entities than the database spends running them.
 */

/** A row, named by the values some of its properties must have. */
export interface RowMatch {
  metadata: EntityMetadata;
  /** Property name to value; every one must match. */
  match: ObjectLiteral;
}

/** A multi-row INSERT binds one parameter per column and row: this keeps it far from any limit. */
const ROWS_PER_INSERT = 500;

/** The WHERE clause of `row`, its parameters prefixed with `prefix`. */
export function whereMatch(runner: QueryRunner, row: RowMatch, alias = '', prefix = 'm') {
  const driver = runner.connection.driver;
  const qualifier = alias ? `${driver.escape(alias)}.` : '';
  const params: ObjectLiteral = {};
  const parts = Object.entries(row.match).map(([property, value], index) => {
    const column = columnOf(row.metadata, property);
    params[`${prefix}${index}`] = driver.preparePersistentValue(value, column);
    return `${qualifier}${driver.escape(column.databaseName)} = :${prefix}${index}`;
  });
  return { where: parts.join(' AND '), params };
}

/**
 * Whether the row exists, in one statement: in the manager's transaction if it has one, else on
 * a connection held only for it.
 */
export function rowExists(manager: EntityManager, row: RowMatch): Promise<boolean> {
  return withRunner(manager, async (runner) => {
    const { where, params } = whereMatch(runner, row);
    const sql = `SELECT 1 AS ${runner.connection.driver.escape('found')} FROM ${tableName(runner, row.metadata)} WHERE ${where}`;
    const result = await run(runner, sql, params);
    return (result.records as unknown[]).length > 0;
  });
}

/**
 * The row matching `row`, every column read back through its conversions and transformers, by
 * property name; null when there is none.
 */
export function findRow(manager: EntityManager, row: RowMatch): Promise<ObjectLiteral | null> {
  return withRunner(manager, async (runner) => {
    const driver = runner.connection.driver;
    const columns = row.metadata.columns;
    const { where, params } = whereMatch(runner, row);
    const select = columns
      .map((column, i) => `${driver.escape(column.databaseName)} AS ${driver.escape(`c${i}`)}`)
      .join(', ');
    const sql = `SELECT ${select} FROM ${tableName(runner, row.metadata)} WHERE ${where}`;
    const found = ((await run(runner, sql, params)).records as ObjectLiteral[])[0];
    if (!found) return null;
    const values: ObjectLiteral = {};
    columns.forEach((column, i) => {
      values[column.propertyName] = driver.prepareHydratedValue(found[`c${i}`], column);
    });
    return values;
  });
}

/** Deletes the rows whose primary key (a single column) is one of `ids`; how many there were. */
export function deleteByIds(
  manager: EntityManager,
  metadata: EntityMetadata,
  ids: readonly unknown[],
): Promise<number> {
  return withRunner(manager, async (runner) => {
    const [key] = metadata.primaryColumns;
    if (!key || metadata.primaryColumns.length > 1) {
      throw new Error(`${metadata.name}: deleteByIds needs a single-column primary key`);
    }
    const name = runner.connection.driver.escape(key.databaseName);
    const sql = `DELETE FROM ${tableName(runner, metadata)} WHERE ${name} IN (:...ids)`;
    return (await run(runner, sql, { ids: [...ids] })).affected ?? 0;
  });
}

/**
 * Inserts the rows, every column from its property (absent ones as their plain default, else
 * NULL), through the columns' own conversions and transformers. With `ignoreExisting`, a row
 * whose key exists already is left as it is, as the query builder's `orIgnore()` writes it.
 */
export function insertRows(
  manager: EntityManager,
  metadata: EntityMetadata,
  rows: readonly ObjectLiteral[],
  options: { ignoreExisting?: boolean } = {},
): Promise<void> {
  return withRunner(manager, async (runner) => {
    for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
      const chunk = rows.slice(start, start + ROWS_PER_INSERT);
      const { sql, params } = insertStatement(runner, metadata, chunk, options);
      await run(runner, sql, params);
    }
  });
}

/**
 * Deletes the rows whose (single-column) key is one of `ids` and inserts `rows`, whose keys are
 * none of them: in one statement where the database can (PostgreSQL, through a WITH that
 * deletes), else in two. Run it in a transaction, so that both happen or neither.
 */
export function deleteByIdsAndInsert(
  manager: EntityManager,
  metadata: EntityMetadata,
  ids: readonly unknown[],
  rows: readonly ObjectLiteral[],
  options: { ignoreExisting?: boolean } = {},
): Promise<void> {
  return withRunner(manager, async (runner) => {
    const [key] = metadata.primaryColumns;
    const oneStatement =
      dialectOf(runner.connection).deletesInWith &&
      ids.length > 0 &&
      rows.length > 0 &&
      rows.length <= ROWS_PER_INSERT &&
      metadata.primaryColumns.length === 1;
    if (!oneStatement || !key) {
      await deleteByIds(runner.manager, metadata, ids);
      await insertRows(runner.manager, metadata, rows, options);
      return;
    }
    const driver = runner.connection.driver;
    const table = tableName(runner, metadata);
    const name = driver.escape(key.databaseName);
    const insert = insertStatement(runner, metadata, rows, options);
    const sql =
      `WITH ${driver.escape('ended')} AS (DELETE FROM ${table} WHERE ${name} IN (:...ids)) ` +
      insert.sql;
    await run(runner, sql, { ...insert.params, ids: [...ids] });
  });
}

function insertStatement(
  runner: QueryRunner,
  metadata: EntityMetadata,
  rows: readonly ObjectLiteral[],
  options: { ignoreExisting?: boolean },
) {
  const driver = runner.connection.driver;
  const columns = metadata.columns;
  const names = columns.map((column) => driver.escape(column.databaseName)).join(', ');
  const ignore = options.ignoreExisting
    ? dialectOf(runner.connection).insertIgnoring
    : { verb: '', suffix: '' };
  const params: ObjectLiteral = {};
  const values = rows.map((row, r) => {
    const placeholders = columns.map((column, c) => {
      const value: unknown = row[column.propertyName] ?? defaultOf(column);
      params[`v${r}_${c}`] = driver.preparePersistentValue(value, column) ?? null;
      return `:v${r}_${c}`;
    });
    return `(${placeholders.join(', ')})`;
  });
  const table = tableName(runner, metadata);
  const sql = `INSERT${ignore.verb} INTO ${table} (${names}) VALUES ${values.join(', ')}${ignore.suffix}`;
  return { sql, params };
}

function defaultOf(column: ColumnMetadata): unknown {
  const value: unknown = column.default;
  return value === undefined || typeof value === 'function' ? null : value;
}

/** Runs `work` on the manager's query runner, or on one held for just that long. */
export async function withRunner<T>(
  manager: EntityManager,
  work: (runner: QueryRunner) => Promise<T>,
): Promise<T> {
  if (manager.queryRunner) return work(manager.queryRunner);
  const runner = manager.dataSource.createQueryRunner();
  try {
    return await work(runner);
  } finally {
    await runner.release();
  }
}
