import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { attachmentEntities, type UploadedFile } from '../../src/index.js';
import { inTransaction, mergeDerivative } from '../../src/persistence/index.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../support/databases.js';
import { fileValue as file, Shelf } from '../support/entities.js';

/** The merge of a derivative into one element of a list, as each database runs it. */
for (const kind of DATABASES) {
  describe(`merging a derivative into a list element on ${kind}`, () => {
    let db: TestDatabase;
    before(async () => {
      db = await createTestDatabase(kind, [Shelf, ...attachmentEntities]);
    });
    after(async () => {
      await db?.close();
    });

    async function drawerWith(list: UploadedFile[]) {
      const drawers = db.dataSource.getRepository(Shelf);
      const { id } = await drawers.save(drawers.create({ files: list }));
      const merge = (original: UploadedFile, name: string, made: UploadedFile) =>
        inTransaction(db.dataSource, (runner) =>
          mergeDerivative(
            runner,
            db.dataSource.getMetadata(Shelf),
            { id },
            'files',
            original,
            name,
            made,
            {
              inList: true,
            },
          ),
        );
      const current = async () => (await drawers.findOneByOrFail({ id })).files;
      return { merge, current };
    }

    it('rewrites only the element with that id and storage, in its place', async () => {
      const kept = file('c', 'store', {
        source: 'c0',
        derivatives: { big: file('c/big', 'store') },
      });
      const list = [file('a', 'store'), file('b', 'cache'), file('b', 'store'), kept];
      const { merge, current } = await drawerWith(list);
      const small = file('b/small', 'store');
      assert.equal(await merge(file('b', 'store'), 'small', small), true);
      const big = file('b/big', 'store');
      assert.equal(
        await merge(file('b', 'store'), 'big', big),
        true,
        'a second name adds to the map',
      );
      assert.equal(await merge(file('c', 'store'), 'small', file('c/small', 'store')), true);
      assert.deepEqual(await current(), [
        list[0],
        list[1],
        { ...list[2], derivatives: { small, big } },
        { ...kept, derivatives: { ...kept.derivatives, small: file('c/small', 'store') } },
      ]);
    });

    it('writes nothing while the list does not hold the element', async () => {
      const list = [file('a', 'store'), file('b', 'cache')];
      const { merge, current } = await drawerWith(list);
      const made = file('b/small', 'store');
      assert.equal(await merge(file('b', 'store'), 'small', made), false, 'another storage');
      assert.equal(await merge(file('B', 'cache'), 'small', made), false, 'another id');
      assert.deepEqual(await current(), list);
    });
  });
}
