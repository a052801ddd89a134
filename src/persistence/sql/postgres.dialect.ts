import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import type { SqlDialect } from './dialect.js';

const matches = (element: string) =>
  `${element} ->> 'id' = :cachedId AND ${element} ->> 'storage' = :cachedStorage`;

/** Back to the column's own type: `json` columns take `json`, `jsonb` columns `jsonb`. */
const asColumn = (column: ColumnMetadata, sql: string) =>
  `(${sql})::${column.type === 'json' ? 'json' : 'jsonb'}`;

export const postgresDialect: SqlDialect = {
  jsonColumnType: 'jsonb',
  jsonText: (column, field) => `((${column})::jsonb ->> '${field}')`,
  readJson: (_column, escaped) => escaped,
  writeJson: (_column, json) => json,
  replaceElement: (column, escaped) =>
    asColumn(
      column,
      `SELECT jsonb_agg(CASE WHEN ${matches('e')} THEN CAST(:stored AS jsonb) ELSE e END ` +
        `ORDER BY n) FROM jsonb_array_elements((${escaped})::jsonb) WITH ORDINALITY AS x(e, n)`,
    ),
  holdsElement: (_column, escaped) =>
    `EXISTS (SELECT 1 FROM jsonb_array_elements((${escaped})::jsonb) AS y(e) WHERE ${matches('e')})`,
  mergeDerivative: (column, escaped) =>
    asColumn(
      column,
      `jsonb_set((${escaped})::jsonb, '{derivatives}', ` +
        `COALESCE((${escaped})::jsonb -> 'derivatives', '{}'::jsonb) || ` +
        `jsonb_build_object(CAST(:name AS text), CAST(:derivative AS jsonb)))`,
    ),
  insertIgnoring: { verb: '', suffix: ' ON CONFLICT DO NOTHING' },
  deletesInWith: true,
  rowLock: ' FOR UPDATE',
  changes: () => '',
  snapshotReads: false,
  oneConnection: false,
};
