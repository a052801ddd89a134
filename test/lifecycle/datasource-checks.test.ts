import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { AttachmentConfigurationError, attachmentEntities } from '../../src/index.js';
import { checkDataSource } from '../../src/lifecycle/datasource-checks.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../support/databases.js';
import { Photo } from '../support/entities.js';

const refused = (message: RegExp) => (error: unknown) =>
  error instanceof AttachmentConfigurationError && message.test(error.message);

/** What the module refuses at start, with its own message, before TypeORM would fail later. */
describe('the DataSource the module joins', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('sqlite', [Photo, ...attachmentEntities]);
  });
  after(async () => {
    await db?.close();
  });

  it('accepts an initialized DataSource with the library tables', () => {
    checkDataSource(db.dataSource);
  });

  it('refuses a database it has no SQL dialect for', () => {
    const oracle = { options: { type: 'oracle' } } as unknown as DataSource;
    assert.throws(
      () => checkDataSource(oracle),
      refused(/database type "oracle" is not supported/),
    );
  });

  it('gives attachment columns the JSON type of each database, as each DataSource initializes', async () => {
    // Side by side: each initialization sees its own database, however they interleave.
    const dbs = await Promise.all(
      DATABASES.map((kind) => createTestDatabase(kind, [Photo, ...attachmentEntities])),
    );
    try {
      const types = dbs.map((each) => [
        each.kind,
        each.dataSource.getMetadata(Photo).findColumnWithPropertyName('image')?.type,
      ]);
      assert.deepEqual(Object.fromEntries(types), {
        postgres: 'jsonb',
        sqlite: 'jsonb',
        mariadb: 'json',
      });
    } finally {
      await Promise.all(dbs.map((each) => each.close()));
    }
  });

  it('refuses an unsupported database as it initializes, before TypeORM fails on a column type', async () => {
    // CockroachDB's driver speaks PostgreSQL's protocol, so it connects to the local server.
    const cockroach = new DataSource({
      type: 'cockroachdb',
      url: `${process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432'}/postgres`,
      timeTravelQueries: false,
      entities: [Photo, ...attachmentEntities],
    });
    await assert.rejects(
      cockroach.initialize(),
      refused(/@Attachment\(\) on Photo\.image: database type "cockroachdb" is not supported/),
    );
  });

  it('refuses a DataSource not yet initialized, or without the library tables', async () => {
    const fresh = new DataSource({ ...db.options, entities: [Photo, ...attachmentEntities] });
    assert.throws(() => checkDataSource(fresh), refused(/must be initialized/));
    const without = await new DataSource({ ...db.options, entities: [Photo] }).initialize();
    try {
      assert.throws(() => checkDataSource(without), refused(/attachmentEntities/));
    } finally {
      await without.destroy();
    }
  });
});
