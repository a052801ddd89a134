import '../support/harness.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { attachmentEntities } from '../../src/index.js';
import { createTestDatabase, SERVER_DATABASES, type TestDatabase } from '../support/databases.js';
import { Note } from '../support/derivative-entities.js';
import { Photo } from '../support/entities.js';
import { png } from '../support/fixtures.js';
import {
  referencedFiles,
  startHarness,
  storedFiles,
  waitForIdle,
  type Harness,
} from '../support/harness.js';

const POOL = 5;
const CONCURRENCY = 50;

/**
 * Every job needs at most one database connection at a time, and none while it copies or
 * processes a file: a worker whose concurrency is ten times the pool still drains its queue.
 */
for (const kind of SERVER_DATABASES) {
  describe(`a worker at concurrency ${CONCURRENCY} on a pool of ${POOL} connections, on ${kind}`, () => {
    let db: TestDatabase;
    let web: Harness;

    before(async () => {
      db = await createTestDatabase(kind, [Photo, Note, ...attachmentEntities], {
        poolSize: POOL,
      });
      web = await startHarness({ dataSource: db.dataSource, worker: false });
    });

    after(async () => {
      await web?.close();
      await db?.close();
    });

    it('drains a backlog of promotions and derivatives', async () => {
      const photos = db.dataSource.getRepository(Photo);
      const notes = db.dataSource.getRepository(Note);
      for (let n = 0; n < 40; n++) {
        const photo = photos.create({ title: `p${n}` });
        await web.attachments.attach(photo, 'image', png(4 + n, 3), { filename: 'p.png' });
        await photos.save(photo);
      }
      for (let n = 0; n < 20; n++) {
        const note = notes.create({ title: `n${n}` });
        await web.attachments.attach(note, 'text', Buffer.from(`note number ${n}`), {
          filename: 'n.txt',
        });
        await notes.save(note);
      }
      // The backlog is queued; now a worker with many more slots than connections takes it.
      const worker = await startHarness({
        dataSource: db.dataSource,
        directory: web.directory,
        queuePrefix: web.queue.opts.prefix,
        worker: { concurrency: CONCURRENCY },
      });
      try {
        await waitForIdle(worker, db.dataSource, 120_000);
      } finally {
        await worker.close();
      }
      const stored = await photos.find();
      assert.equal(stored.filter((photo) => photo.image?.storage === 'store').length, 40);
      const made = await notes.find();
      for (const note of made) {
        assert.equal(note.text?.storage, 'store');
        assert.deepEqual(Object.keys(note.text?.derivatives ?? {}).sort(), [
          'count',
          'flaky',
          'summary',
          'upper',
        ]);
      }
      assert.deepEqual(
        await storedFiles(web.storages),
        await referencedFiles(db.dataSource, [
          { entity: Photo, properties: ['image'] },
          { entity: Note, properties: ['text', 'shout'] },
        ]),
      );
    });
  });
}
