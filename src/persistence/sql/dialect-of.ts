import type { DataSource } from 'typeorm';
import { AttachmentConfigurationError } from '../../core/index.js';
import type { SqlDialect } from './dialect.js';
import { mysqlDialect } from './mysql.dialect.js';
import { postgresDialect } from './postgres.dialect.js';
import { sqliteDialect } from './sqlite.dialect.js';

const DIALECTS: Readonly<Record<string, SqlDialect>> = {
  postgres: postgresDialect,
  'better-sqlite3': sqliteDialect,
  // TypeORM's two names for the mysql2 driver.
  mysql: mysqlDialect,
  mariadb: mysqlDialect,
};

/** The drivers this library has a dialect for (and runs its tests on). */
export const SUPPORTED_DRIVERS = Object.keys(DIALECTS);

/** The dialect of a TypeORM database type; `what` names what needs it, for the error. */
export function dialectFor(type: string, what = 'AttachmentsModule'): SqlDialect {
  const dialect = DIALECTS[type];
  if (!dialect) {
    throw new AttachmentConfigurationError(
      `${what}: database type "${type}" is not supported (${SUPPORTED_DRIVERS.join(', ')})`,
    );
  }
  return dialect;
}

export function dialectOf(dataSource: DataSource): SqlDialect {
  return dialectFor(dataSource.options.type);
}
