import { AsyncLocalStorage } from 'node:async_hooks';
import { DataSource } from 'typeorm';
import { dialectFor } from './sql/dialect-of.js';

/**
 * Which DataSource is initializing, for code that TypeORM runs while it builds the entity
 * metadata. A decorator runs when its class is defined, before any DataSource exists, and
 * TypeORM 1.x has no column type per database; but it reads a column's type once per
 * DataSource, inside `initialize()`, and async context follows that call through its awaits,
 * so DataSources initializing at the same time each see their own.
 */
const initializing = new AsyncLocalStorage<DataSource>();

const initialize = DataSource.prototype.initialize;
Object.defineProperty(DataSource.prototype, 'initialize', {
  configurable: true,
  writable: true,
  value: function initializeWithContext(this: DataSource) {
    return initializing.run(this, () => initialize.call(this));
  },
});

/**
 * The column type of an attachment declared without `columnType`: the JSON type of the
 * database being initialized (`jsonb` on PostgreSQL and SQLite, `json` on MySQL and MariaDB),
 * or the library's error for a database it does not support, before TypeORM fails on a type.
 * Outside an initialization (when the decorator itself runs) it is `jsonb`, what it was
 * before the choice depended on the database.
 */
export function jsonColumnType(declaredOn: string): 'json' | 'jsonb' {
  const dataSource = initializing.getStore();
  if (!dataSource) return 'jsonb';
  return dialectFor(dataSource.options.type, declaredOn).jsonColumnType;
}
