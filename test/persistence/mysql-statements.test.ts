import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DataSource, type Repository } from 'typeorm';
import { attachmentEntities, type UploadedFile } from '../../src/index.js';
import {
  compareAndSetAttachment,
  inTransaction,
  mergeDerivative,
  replaceListElement,
} from '../../src/persistence/index.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { fileValue as file, Photo, Shelf } from '../support/entities.js';

/**
 * The raw statements on MariaDB, through connections counting matched rows (mysql2's default)
 * and changed rows (`-FOUND_ROWS`): a write that changes nothing is never reported as a write,
 * and values are stored as JSON objects, compared byte for byte.
 */
describe('raw statements on MariaDB', () => {
  let db: TestDatabase;
  let changedRows: DataSource;
  before(async () => {
    db = await createTestDatabase('mariadb', [Photo, Shelf, ...attachmentEntities]);
    changedRows = await new DataSource({
      ...db.options,
      synchronize: false,
      flags: ['-FOUND_ROWS'],
    } as typeof db.options).initialize();
  });
  after(async () => {
    if (changedRows?.isInitialized) await changedRows.destroy();
    await db?.close();
  });

  const connections = () => [
    { name: 'matched rows', dataSource: db.dataSource },
    { name: 'changed rows', dataSource: changedRows },
  ];

  it('declares the attachment columns as json, and stores objects in them', async () => {
    const column = db.dataSource.getMetadata(Photo).findColumnWithPropertyName('image');
    assert.equal(column?.type, 'json');
    const photos = db.dataSource.getRepository(Photo);
    const saved = await photos.save(photos.create({ title: 'a', image: file('a', 'cache') }));
    const [row] = await db.dataSource.query(
      'SELECT JSON_TYPE(image) AS type, JSON_VALUE(image, "$.id") AS id FROM photo WHERE id = ?',
      [saved.id],
    );
    assert.deepEqual({ ...row }, { type: 'OBJECT', id: 'a' });
  });

  it('compare-and-set writes once, and a write of the same value is no write', async () => {
    for (const { name, dataSource } of connections()) {
      const photos: Repository<Photo> = dataSource.getRepository(Photo);
      const metadata = dataSource.getMetadata(Photo);
      const cached = file(`c-${name}`, 'cache');
      const stored = file(`s-${name}`, 'store');
      const { id } = await photos.save(photos.create({ title: name, image: cached }));
      const cas = (expected: UploadedFile, next: UploadedFile) =>
        inTransaction(dataSource, (runner) =>
          compareAndSetAttachment(runner, metadata, { id }, 'image', expected, next),
        );
      assert.equal(await cas(cached, stored), true, `${name}: the write`);
      assert.equal(await cas(cached, stored), false, `${name}: the column moved on`);
      assert.equal(await cas(stored, stored), false, `${name}: the same value again`);
      const current = await photos.findOneByOrFail({ id });
      assert.deepEqual(current.image, stored);
    }
  });

  it('merges a derivative once; merging the same one again reports no write', async () => {
    for (const { name, dataSource } of connections()) {
      const photos = dataSource.getRepository(Photo);
      const metadata = dataSource.getMetadata(Photo);
      const original = file(`o-${name}`, 'store');
      const thumb = file(`o-${name}/thumb`, 'store');
      const { id } = await photos.save(photos.create({ title: name, image: original }));
      const merge = (made: UploadedFile) =>
        inTransaction(dataSource, (runner) =>
          mergeDerivative(runner, metadata, { id }, 'image', original, 'thumb', made),
        );
      assert.equal(await merge(thumb), true, `${name}: the first merge`);
      assert.equal(await merge(thumb), false, `${name}: the same derivative again`);
      const other = file(`o-${name}/thumb-2`, 'store');
      assert.equal(await merge(other), true, `${name}: a new version`);
      const current = await photos.findOneByOrFail({ id });
      assert.deepEqual(current.image?.derivatives, { thumb: other });
    }
  });

  it('replaces the one list element that matches id and storage byte for byte', async () => {
    for (const { name, dataSource } of connections()) {
      const shelves = dataSource.getRepository(Shelf);
      const metadata = dataSource.getMetadata(Shelf);
      const list = [file('a', 'cache'), file('A', 'cache'), file('A', 'store')];
      const { id } = await shelves.save(shelves.create({ files: list }));
      const stored = file('A-stored', 'store', { source: 'A' });
      const replace = () =>
        inTransaction(dataSource, (runner) =>
          replaceListElement(runner, metadata, { id }, 'files', file('A', 'cache'), stored),
        );
      assert.equal(await replace(), true, `${name}: the write`);
      assert.equal(await replace(), false, `${name}: no longer in the list`);
      const current = await shelves.findOneByOrFail({ id });
      assert.deepEqual(current.files, [list[0], stored, list[2]], name);
    }
  });

  it('merges a derivative into the one list element that matches, and only while it is there', async () => {
    for (const { name, dataSource } of connections()) {
      const shelves = dataSource.getRepository(Shelf);
      const metadata = dataSource.getMetadata(Shelf);
      const kept = file('b', 'store', { derivatives: { thumb: file('b/thumb', 'store') } });
      const list = [file('a', 'store'), file('A', 'cache'), file('A', 'store'), kept];
      const { id } = await shelves.save(shelves.create({ files: list }));
      const merge = (original: UploadedFile, made: UploadedFile) =>
        inTransaction(dataSource, (runner) =>
          mergeDerivative(runner, metadata, { id }, 'files', original, 'thumb', made, {
            inList: true,
          }),
        );
      const thumb = file('A/thumb', 'store');
      assert.equal(await merge(file('A', 'store'), thumb), true, `${name}: the first merge`);
      assert.equal(await merge(file('A', 'store'), thumb), false, `${name}: the same again`);
      const other = file('A/thumb-2', 'store');
      assert.equal(await merge(file('A', 'store'), other), true, `${name}: a new version`);
      assert.equal(await merge(file('gone', 'store'), thumb), false, `${name}: not in the list`);
      assert.equal(await merge(file('B', 'store'), thumb), false, `${name}: 'b' is not 'B'`);
      const current = await shelves.findOneByOrFail({ id });
      assert.deepEqual(
        current.files,
        [list[0], list[1], { ...list[2], derivatives: { thumb: other } }, kept],
        `${name}: only that element changed, in its place`,
      );
    }
  });
});
