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

/** The 1-based position of the element naming `:elementId`/`:elementStorage`, or NULL. */
const position = (escaped: string) =>
  `(SELECT x.n FROM JSON_TABLE(${escaped}, '$[*]' COLUMNS (n FOR ORDINALITY, ` +
  `fid VARCHAR(2048) PATH '$.id', fst VARCHAR(2048) PATH '$.storage')) AS x ` +
  `WHERE CAST(x.fid AS BINARY) = :elementId AND CAST(x.fst AS BINARY) = :elementStorage LIMIT 1)`;

/** The JSON path of that element, `$[<index>]`. */
const elementPath = (escaped: string) => `CONCAT('$[', ${position(escaped)} - 1, ']')`;

/** `file` with entry `:name` of its `derivatives` map (at path `at`) set to `:derivative`. */
const withDerivative = (file: string, at: string, entry: string) =>
  `JSON_SET(JSON_INSERT(${file}, ${at}, JSON_OBJECT()), ${entry}, ${json(':derivative')})`;

export const mysqlDialect: SqlDialect = {
  jsonColumnType: 'json',
  jsonText: (column, field) => text(column, `$.${field}`),
  readJson: (_column, escaped) => escaped,
  writeJson: (_column, value) => json(value),
  replaceElement: (_column, escaped) =>
    `JSON_SET(${escaped}, ${elementPath(escaped)}, ${json(':stored')})`,
  // The same lookup as the rewrites': a list they would find no element in is never written.
  holdsElement: (_column, escaped) => `${position(escaped)} IS NOT NULL`,
  mergeDerivative: (_column, escaped) => withDerivative(escaped, `'$.derivatives'`, ':path'),
  mergeElementDerivative: (_column, escaped) => {
    const at = `CONCAT(${elementPath(escaped)}, '.derivatives')`;
    return withDerivative(escaped, at, `CONCAT(${at}, '."', :name, '"')`);
  },
  // Equal as JSON both ways round; NULL (no old value) counts as a change.
  changes: (_column, escaped, next) =>
    ` AND NOT COALESCE(JSON_CONTAINS(${escaped}, ${next}) AND JSON_CONTAINS(${next}, ${escaped}), FALSE)`,
  insertIgnoring: { verb: ' IGNORE', suffix: '' },
  deletesInWith: false,
  rowLock: ' FOR UPDATE',
  snapshotReads: true,
  oneConnection: false,
};
