import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { AttachmentConfigurationError, attachmentEntities } from '../../src/index.js';
import { checkDataSource } from '../../src/lifecycle/datasource-checks.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
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
    const mysql = { options: { type: 'mysql' } } as unknown as DataSource;
    assert.throws(() => checkDataSource(mysql), refused(/database type "mysql" is not supported/));
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
