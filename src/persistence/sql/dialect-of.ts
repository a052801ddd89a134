import type { DataSource } from 'typeorm';
import { AttachmentConfigurationError } from '../../core/index.js';
import type { SqlDialect } from './dialect.js';
import { postgresDialect } from './postgres.dialect.js';
import { sqliteDialect } from './sqlite.dialect.js';

const DIALECTS: Readonly<Record<string, SqlDialect>> = {
  postgres: postgresDialect,
  'better-sqlite3': sqliteDialect,
};

/** The drivers this library has a dialect for (and runs its tests on). */
export const SUPPORTED_DRIVERS = Object.keys(DIALECTS);

export function dialectOf(dataSource: DataSource): SqlDialect {
  const dialect = DIALECTS[dataSource.options.type];
  if (!dialect) {
    throw new AttachmentConfigurationError(
      `database type "${dataSource.options.type}" is not supported (${SUPPORTED_DRIVERS.join(', ')})`,
    );
  }
  return dialect;
}
