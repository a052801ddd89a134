import type { EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import { AttachmentConfigurationError } from '../../core/index.js';
import type { SqlDialect } from './dialect.js';
import { dialectOf } from './dialect-of.js';

/**
 * The pieces every raw statement of this library shares: the attachment's column, the table,
 * the record's WHERE clause, and running it with named parameters. The query builder would
 * bump version and update-date columns and fire listeners; a job must touch its column and
 * nothing else, so statements are plain SQL through the driver's escaping and parameters.
 */
export interface Statement {
  dialect: SqlDialect;
  table: string;
  column: ColumnMetadata;
  /** The column's escaped name. */
  name: string;
  /** Matches the record by primary key, excluding soft-deleted rows. */
  where: string;
  params: ObjectLiteral;
}

export function statementFor(
  runner: QueryRunner,
  metadata: EntityMetadata,
  idMap: ObjectLiteral,
  property: string,
): Statement {
  const column = columnOf(metadata, property);
  const { where, params } = whereRecord(runner, metadata, idMap);
  return {
    dialect: dialectOf(runner.connection),
    table: tableName(runner, metadata),
    column,
    name: runner.connection.driver.escape(column.databaseName),
    where,
    params,
  };
}

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

/** The record's WHERE clause; with `alias`, its columns are qualified by it. */
export function whereRecord(
  runner: QueryRunner,
  metadata: EntityMetadata,
  idMap: ObjectLiteral,
  alias = '',
) {
  const driver = runner.connection.driver;
  const qualifier = alias ? `${driver.escape(alias)}.` : '';
  const params: ObjectLiteral = {};
  const parts = metadata.primaryColumns.map((column, index) => {
    params[`pk${index}`] = idMap[column.propertyPath];
    return `${qualifier}${driver.escape(column.databaseName)} = :pk${index}`;
  });
  if (metadata.deleteDateColumn) {
    parts.push(`${qualifier}${driver.escape(metadata.deleteDateColumn.databaseName)} IS NULL`);
  }
  return { where: parts.join(' AND '), params };
}

export async function run(runner: QueryRunner, sql: string, params: ObjectLiteral) {
  const [query, parameters] = runner.connection.driver.escapeQueryWithParameters(sql, params);
  return runner.query(query, parameters, true);
}

/** Runs an UPDATE; whether it changed the row. */
export async function update(
  runner: QueryRunner,
  sql: string,
  params: ObjectLiteral,
): Promise<boolean> {
  return ((await run(runner, sql, params)).affected ?? 0) > 0;
}
