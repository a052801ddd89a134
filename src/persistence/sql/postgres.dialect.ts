import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import type { SqlDialect } from './dialect.js';

const matches = (element: string) =>
  `${element} ->> 'id' = :elementId AND ${element} ->> 'storage' = :elementStorage`;

/** Back to the column's own type: `json` columns take `json`, `jsonb` columns `jsonb`. */
const asColumn = (column: ColumnMetadata, sql: string) =>
  `(${sql})::${column.type === 'json' ? 'json' : 'jsonb'}`;

/** The list with the matching element `e` rewritten as `replacement`, in the list's order. */
const mapElement = (column: ColumnMetadata, escaped: string, replacement: string) =>
  asColumn(
    column,
    `SELECT jsonb_agg(CASE WHEN ${matches('e')} THEN ${replacement} ELSE e END ORDER BY n) ` +
      `FROM jsonb_array_elements((${escaped})::jsonb) WITH ORDINALITY AS x(e, n)`,
  );

/** A file (as jsonb) with entry `:name` of its `derivatives` map set to `:derivative`. */
const withDerivative = (file: string) =>
  `jsonb_set(${file}, '{derivatives}', ` +
  `COALESCE(${file} -> 'derivatives', '{}'::jsonb) || ` +
  `jsonb_build_object(CAST(:name AS text), CAST(:derivative AS jsonb)))`;

export const postgresDialect: SqlDialect = {
  jsonColumnType: 'jsonb',
  jsonText: (column, field) => `((${column})::jsonb ->> '${field}')`,
  readJson: (_column, escaped) => escaped,
  writeJson: (_column, json) => json,
  replaceElement: (column, escaped) => mapElement(column, escaped, 'CAST(:stored AS jsonb)'),
  holdsElement: (_column, escaped) =>
    `EXISTS (SELECT 1 FROM jsonb_array_elements((${escaped})::jsonb) AS y(e) WHERE ${matches('e')})`,
  mergeDerivative: (column, escaped) => asColumn(column, withDerivative(`(${escaped})::jsonb`)),
  mergeElementDerivative: (column, escaped) => mapElement(column, escaped, withDerivative('e')),
  insertIgnoring: { verb: '', suffix: ' ON CONFLICT DO NOTHING' },
  deletesInWith: true,
  rowLock: ' FOR UPDATE',
  changes: () => '',
  snapshotReads: false,
  oneConnection: false,
};
