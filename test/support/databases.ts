import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';

export type DatabaseKind = 'postgres' | 'sqlite';

export interface TestDatabase {
  kind: DatabaseKind;
  options: DataSourceOptions;
  dataSource: DataSource;
  close(): Promise<void>;
}

const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432';

/**
 * A fresh database per test file: a new PostgreSQL database on the machine's server, or a new
 * SQLite file. The schema comes from the entities (synchronize).
 */
export async function createTestDatabase(
  kind: DatabaseKind,
  entities: NonNullable<DataSourceOptions['entities']>,
  driver: { poolSize?: number } = {},
): Promise<TestDatabase> {
  if (kind === 'postgres') {
    const name = `attachments_test_${randomBytes(6).toString('hex')}`;
    await adminQuery(`CREATE DATABASE ${name}`);
    const options: DataSourceOptions = {
      type: 'postgres',
      url: `${PG_URL}/${name}`,
      entities,
      synchronize: true,
      ...(driver.poolSize ? { poolSize: driver.poolSize } : {}),
    };
    const dataSource = await new DataSource(options).initialize();
    return {
      kind,
      options,
      dataSource,
      async close() {
        if (dataSource.isInitialized) await dataSource.destroy();
        await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      },
    };
  }
  const directory = await mkdtemp(join(tmpdir(), 'attachments-sqlite-'));
  const options: DataSourceOptions = {
    type: 'better-sqlite3',
    database: join(directory, 'test.sqlite'),
    entities,
    synchronize: true,
  };
  const dataSource = await new DataSource(options).initialize();
  return {
    kind,
    options,
    dataSource,
    async close() {
      if (dataSource.isInitialized) await dataSource.destroy();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * Takes a test's PostgreSQL database down for the app (its connections are cut and new ones
 * refused) or brings it back: a database outage that disturbs no other test.
 */
export async function setDatabaseReachable(db: TestDatabase, reachable: boolean): Promise<void> {
  const name = new URL((db.options as { url: string }).url).pathname.slice(1);
  await adminQuery(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS ${reachable}`);
  if (!reachable) {
    await adminQuery(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`,
    );
  }
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${PG_URL}/postgres` });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
