import type { SqlDialect } from './dialect.js';

/**
 * MySQL 8 and MariaDB (10.6 or newer, for JSON_TABLE). Written in the JSON functions both have:
 * MariaDB's JSON is LONGTEXT, so a bound JSON text goes through `JSON_EXTRACT(?, '$')`, which
 * makes it a JSON value on MySQL and leaves it JSON text on MariaDB, so that nested in
 * `JSON_SET` it is stored as an object, never as a string. Text read out of JSON is compared
 * as bytes: a case-insensitive collation must not take one file id for another.
 */
const json = (sql: string) => `JSON_EXTRACT(${sql}, '$')`;
const text = (column: string, path: string) =>
  `CAST(JSON_UNQUOTE(JSON_EXTRACT(${column}, '${path}')) AS BINARY)`;

/** The 1-based position of the element naming `:cachedId`/`:cachedStorage`, or NULL. */
const position = (escaped: string) =>
  `(SELECT x.n FROM JSON_TABLE(${escaped}, '$[*]' COLUMNS (n FOR ORDINALITY, ` +
  `fid VARCHAR(2048) PATH '$.id', fst VARCHAR(2048) PATH '$.storage')) AS x ` +
  `WHERE CAST(x.fid AS BINARY) = :cachedId AND CAST(x.fst AS BINARY) = :cachedStorage LIMIT 1)`;

export const mysqlDialect: SqlDialect = {
  jsonColumnType: 'json',
  jsonText: (column, field) => text(column, `$.${field}`),
  readJson: (_column, escaped) => escaped,
  writeJson: (_column, value) => json(value),
  replaceElement: (_column, escaped) =>
    `JSON_SET(${escaped}, CONCAT('$[', ${position(escaped)} - 1, ']'), ${json(':stored')})`,
  holdsElement: (_column, escaped) =>
    `JSON_CONTAINS(${escaped}, JSON_OBJECT('id', :cachedId, 'storage', :cachedStorage))`,
  mergeDerivative: (_column, escaped) =>
    `JSON_SET(JSON_INSERT(${escaped}, '$.derivatives', JSON_OBJECT()), :path, ${json(':derivative')})`,
  // Equal as JSON both ways round; NULL (no old value) counts as a change.
  changes: (_column, escaped, next) =>
    ` AND NOT COALESCE(JSON_CONTAINS(${escaped}, ${next}) AND JSON_CONTAINS(${next}, ${escaped}), FALSE)`,
  insertIgnoring: { verb: ' IGNORE', suffix: '' },
  deletesInWith: false,
  rowLock: ' FOR UPDATE',
  snapshotReads: true,
  oneConnection: false,
};
