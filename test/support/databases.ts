import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';

export type DatabaseKind = 'postgres' | 'sqlite' | 'mariadb';

/** Every database the library supports, as the tests that run on each of them loop over. */
export const DATABASES: readonly DatabaseKind[] = ['postgres', 'sqlite', 'mariadb'];

/** The databases with a server, row locks and a connection pool. */
export const SERVER_DATABASES: readonly DatabaseKind[] = ['postgres', 'mariadb'];

export interface TestDatabase {
  kind: DatabaseKind;
  options: DataSourceOptions;
  /** The database's URL, for other processes (server databases only). */
  url?: string;
  dataSource: DataSource;
  close(): Promise<void>;
}

const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
/** A MariaDB (or MySQL) server where `root` may create databases and users. */
const MYSQL_URL = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';

type Entities = NonNullable<DataSourceOptions['entities']>;

/**
 * A fresh database per test file: a new PostgreSQL or MariaDB database on the machine's
 * server, or a new SQLite file. The schema comes from the entities (synchronize).
 */
export async function createTestDatabase(
  kind: DatabaseKind,
  entities: Entities,
  driver: { poolSize?: number } = {},
): Promise<TestDatabase> {
  if (kind === 'postgres') return createPostgres(entities, driver);
  if (kind === 'mariadb') return createMariadb(entities, driver);
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

async function createPostgres(entities: Entities, driver: { poolSize?: number }) {
  const name = testName();
  await postgresAdmin(`CREATE DATABASE ${name}`);
  const url = `${PG_URL}/${name}`;
  const options = urlOptions(url, { entities, synchronize: true, poolSize: driver.poolSize });
  const dataSource = await new DataSource(options).initialize();
  return {
    kind: 'postgres' as const,
    options,
    url,
    dataSource,
    async close() {
      if (dataSource.isInitialized) await dataSource.destroy();
      await postgresAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/**
 * A database and a user of its own, so that an outage of this database alone can be made by
 * locking the user out (see setDatabaseReachable).
 */
async function createMariadb(entities: Entities, driver: { poolSize?: number }) {
  const name = testName();
  await mysqlAdmin(
    `CREATE DATABASE ${name} CHARACTER SET utf8mb4`,
    `CREATE USER '${name}'@'%' IDENTIFIED BY ''`,
    `GRANT ALL ON ${name}.* TO '${name}'@'%'`,
  );
  const server = new URL(MYSQL_URL);
  const url = `mariadb://${name}@${server.host}/${name}`;
  const options = urlOptions(url, { entities, synchronize: true, poolSize: driver.poolSize });
  const dataSource = await new DataSource(options).initialize();
  return {
    kind: 'mariadb' as const,
    options,
    url,
    dataSource,
    async close() {
      if (dataSource.isInitialized) await dataSource.destroy();
      await mysqlAdmin(`DROP DATABASE IF EXISTS ${name}`, `DROP USER IF EXISTS '${name}'@'%'`);
    },
  };
}

/**
 * Takes a test's server database down for the app (its connections are cut and new ones
 * refused) or brings it back: a database outage that disturbs no other test.
 */
export async function setDatabaseReachable(db: TestDatabase, reachable: boolean): Promise<void> {
  if (db.kind === 'mariadb') {
    const name = new URL(db.url!).pathname.slice(1);
    await mysqlAdmin(`ALTER USER '${name}'@'%' ACCOUNT ${reachable ? 'UNLOCK' : 'LOCK'}`);
    if (!reachable) await killConnectionsOf(name);
    return;
  }
  if (db.kind !== 'postgres') throw new Error(`no outage for ${db.kind}`);
  const name = new URL(db.url!).pathname.slice(1);
  await postgresAdmin(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS ${reachable}`);
  if (!reachable) {
    await postgresAdmin(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`,
    );
  }
}

/**
 * DataSource options for a server database's URL: `postgres://`, `mysql://` or `mariadb://`
 * (TypeORM's `mysql` and `mariadb` drivers, both on mysql2).
 */
export function urlOptions(
  url: string,
  rest: { entities: Entities; synchronize?: boolean; poolSize?: number | undefined },
): DataSourceOptions {
  const { poolSize, ...common } = rest;
  const pool = poolSize ? { poolSize } : {};
  const scheme = new URL(url).protocol;
  if (scheme === 'mysql:' || scheme === 'mariadb:') {
    return { type: scheme === 'mysql:' ? 'mysql' : 'mariadb', url, ...common, ...pool };
  }
  return { type: 'postgres', url, ...common, ...pool };
}

function testName(): string {
  return `attachments_test_${randomBytes(6).toString('hex')}`;
}

async function postgresAdmin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${PG_URL}/postgres` });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function mysqlAdmin(...statements: string[]): Promise<void> {
  const connection = await mysql.createConnection(MYSQL_URL);
  try {
    for (const sql of statements) await connection.query(sql);
  } finally {
    await connection.end();
  }
}

async function killConnectionsOf(user: string): Promise<void> {
  const connection = await mysql.createConnection(MYSQL_URL);
  try {
    const [rows] = await connection.query<mysql.RowDataPacket[]>(
      'SELECT id FROM information_schema.processlist WHERE user = ?',
      [user],
    );
    for (const row of rows) {
      // A connection may end by itself meanwhile.
      await connection.query(`KILL CONNECTION ${Number(row.id)}`).catch(() => undefined);
    }
  } finally {
    await connection.end();
  }
}
