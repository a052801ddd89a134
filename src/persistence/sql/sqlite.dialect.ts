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
  `json_extract(value, '$.id') = :cachedId AND ` +
  `json_extract(value, '$.storage') = :cachedStorage`;

export const sqliteDialect: SqlDialect = {
  jsonColumnType: 'jsonb',
  jsonText: (column, field) => `json_extract(${column}, '$.${field}')`,
  readJson: read,
  writeJson: write,
  replaceElement: (column, escaped) =>
    write(
      column,
      `(SELECT json_group_array(CASE WHEN ${matches} THEN json(:stored) ELSE json(value) END ` +
        `ORDER BY key) FROM json_each(${read(column, escaped)}))`,
    ),
  holdsElement: (column, escaped) =>
    `EXISTS (SELECT 1 FROM json_each(${read(column, escaped)}) WHERE ${matches})`,
  mergeDerivative: (column, escaped) => {
    const current = read(column, escaped);
    const withMap =
      `json_set(${current}, '$.derivatives', ` +
      `json(COALESCE(json_extract(${current}, '$.derivatives'), '{}')))`;
    return write(column, `json_set(${withMap}, :path, json(:derivative))`);
  },
  // SQLite has no row locks; its single writer serializes the transactions instead.
  insertIgnoring: { verb: ' OR IGNORE', suffix: '' },
  deletesInWith: false,
  rowLock: '',
  changes: () => '',
  snapshotReads: false,
  oneConnection: true,
};
