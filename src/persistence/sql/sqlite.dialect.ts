import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import type { SqlDialect } from './dialect.js';

/**
 * TypeORM keeps SQLite `jsonb` columns as binary JSONB: it reads them through `json()` and
 * writes through `jsonb()`. Raw SQL must do the same; other column types hold JSON text.
 */
const read = (column: ColumnMetadata, sql: string) =>
  column.type === 'jsonb' ? `json(${sql})` : sql;
const write = (column: ColumnMetadata, sql: string) =>
  column.type === 'jsonb' ? `jsonb(${sql})` : sql;

const matches =
  `json_extract(value, '$.id') = :elementId AND ` +
  `json_extract(value, '$.storage') = :elementStorage`;

/** The list with the matching element (`value`) rewritten as `replacement`, in the list's order. */
const mapElement = (column: ColumnMetadata, escaped: string, replacement: string) =>
  write(
    column,
    `(SELECT json_group_array(CASE WHEN ${matches} THEN ${replacement} ELSE json(value) END ` +
      `ORDER BY key) FROM json_each(${read(column, escaped)}))`,
  );

/** A file (as JSON text) with entry `:name` (`:path`) of its `derivatives` map set to `:derivative`. */
const withDerivative = (file: string) => {
  const withMap =
    `json_set(${file}, '$.derivatives', ` +
    `json(COALESCE(json_extract(${file}, '$.derivatives'), '{}')))`;
  return `json_set(${withMap}, :path, json(:derivative))`;
};

export const sqliteDialect: SqlDialect = {
  jsonColumnType: 'jsonb',
  jsonText: (column, field) => `json_extract(${column}, '$.${field}')`,
  readJson: read,
  writeJson: write,
  replaceElement: (column, escaped) => mapElement(column, escaped, 'json(:stored)'),
  holdsElement: (column, escaped) =>
    `EXISTS (SELECT 1 FROM json_each(${read(column, escaped)}) WHERE ${matches})`,
  mergeDerivative: (column, escaped) => write(column, withDerivative(read(column, escaped))),
  mergeElementDerivative: (column, escaped) =>
    mapElement(column, escaped, withDerivative('json(value)')),
  // SQLite has no row locks; its single writer serializes the transactions instead.
  insertIgnoring: { verb: ' OR IGNORE', suffix: '' },
  deletesInWith: false,
  rowLock: '',
  changes: () => '',
  snapshotReads: false,
  oneConnection: true,
};
