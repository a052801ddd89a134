import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';

/**
 * What differs between databases in this library's raw SQL, in one object per database: the
 * statements themselves are written once, in terms of these pieces. Column names come in
 * escaped; values are named parameters (`:name`) bound by the driver.
 */
export interface SqlDialect {
  /** The column type `@Attachment()` and `@Attachments()` declare when none is given. */
  readonly jsonColumnType: 'json' | 'jsonb';
  /** A top-level string field of a JSON column, e.g. its `id`. */
  jsonText(column: string, field: string): string;
  /** The JSON column's value as a JSON text, for the database's JSON functions. */
  readJson(column: ColumnMetadata, escaped: string): string;
  /** A JSON text made back into what the column stores. */
  writeJson(column: ColumnMetadata, json: string): string;
  /** The list in column `escaped` with the element naming `:elementId`/`:elementStorage` set to `:stored`. */
  replaceElement(column: ColumnMetadata, escaped: string): string;
  /** Whether the list in column `escaped` holds the element naming `:elementId`/`:elementStorage`. */
  holdsElement(column: ColumnMetadata, escaped: string): string;
  /** The column with its `derivatives` map's entry `:name` (`:path` as a JSON path) set to `:derivative`. */
  mergeDerivative(column: ColumnMetadata, escaped: string): string;
  /**
   * The list in column `escaped` with the element naming `:elementId`/`:elementStorage` given
   * that same entry of its own `derivatives` map; the other elements as they are, in order.
   */
  mergeElementDerivative(column: ColumnMetadata, escaped: string): string;
  /**
   * A condition (starting with ` AND `) that holds only when setting column `escaped` to `next`
   * changes it, or empty. MySQL's clients count matched rows or changed rows as the
   * connection's flags say; excluding the rows a write would leave as they are makes both
   * counts the same, so a write that changes nothing is never taken for a win. PostgreSQL and
   * SQLite always count matched rows, which the statements' own conditions decide.
   */
  changes(column: ColumnMetadata, escaped: string, next: string): string;
  /**
   * How an INSERT leaves rows whose key exists already as they are: a word after INSERT and a
   * clause after the values (as TypeORM's `orIgnore()` writes them).
   */
  readonly insertIgnoring: { readonly verb: string; readonly suffix: string };
  /** A WITH clause may delete rows before the statement it leads (PostgreSQL). */
  readonly deletesInWith: boolean;
  /** Appended to a SELECT inside a transaction to lock the row; empty without row locks. */
  readonly rowLock: string;
  /**
   * A plain SELECT inside a transaction reads a snapshot taken at the transaction's first read
   * (MySQL's default REPEATABLE READ), not what others committed since: reads that decide must
   * then be locking reads, and this library's own transactions run at READ COMMITTED.
   */
  readonly snapshotReads: boolean;
  /**
   * The database has one connection for the whole process (SQLite): this library's own
   * transactions must then run one at a time.
   */
  readonly oneConnection: boolean;
}
