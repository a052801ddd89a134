import '../support/harness.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { attachmentEntities, AttachmentWork } from '../../src/index.js';
import { createTestDatabase, SERVER_DATABASES, type TestDatabase } from '../support/databases.js';
import { Photo } from '../support/entities.js';
import { png } from '../support/fixtures.js';
import { freePort, RedisServer, startWorker, type WorkerProcess } from '../support/processes.js';
import {
  referencedFiles,
  startHarness,
  storedFiles,
  waitFor,
  waitForIdle,
  type Harness,
} from '../support/harness.js';

for (const kind of SERVER_DATABASES) {
  describe(`faults on ${kind}`, () => {
    let db: TestDatabase;

    before(async () => {
      db = await createTestDatabase(kind, [Photo, ...attachmentEntities]);
    });

    after(async () => {
      await db?.close();
    });

    it('Redis down during save: save succeeds, the relay sends the work once Redis is back', async () => {
      const redis = new RedisServer(await freePort());
      await redis.start();
      const harness: Harness = await startHarness({
        dataSource: db.dataSource,
        connection: { host: '127.0.0.1', port: redis.port },
        relay: { interval: 200, after: 100 },
      });
      try {
        const photos = db.dataSource.getRepository(Photo);
        const photo = photos.create({ title: 'offline' });
        await harness.attachments.attach(photo, 'image', png(7, 7), { filename: 'o.png' });
        await redis.kill();

        await photos.save(photo); // must not throw although the job cannot be queued
        const work = await db.dataSource
          .getRepository(AttachmentWork)
          .findBy({ status: 'pending' });
        assert.equal(work.length, 1, 'the promotion waits in the outbox');
        await new Promise((resolve) => setTimeout(resolve, 500)); // relay passes fail meanwhile
        assert.equal((await photos.findOneByOrFail({ id: photo.id })).image?.storage, 'cache');

        await redis.start();
        await waitFor(
          async () => (await photos.findOneByOrFail({ id: photo.id })).image?.storage === 'store',
          'promotion after Redis came back',
        );
        await waitForIdle(harness, db.dataSource);
        assert.deepEqual(
          await storedFiles(harness.storages),
          await referencedFiles(db.dataSource, [{ entity: Photo, properties: ['image'] }]),
        );
      } finally {
        await harness.close();
        await redis.kill();
        // The files went with the harness's directory; the next test starts from no records.
        await db.dataSource.getRepository(Photo).clear();
      }
    });

    it('a worker killed with SIGKILL mid-promotion: a new worker finishes, nothing orphaned', async () => {
      // This process only writes records (worker: false); the workers are child processes.
      const web = await startHarness({ dataSource: db.dataSource, worker: false });
      let worker: WorkerProcess = await startWorker(web, db, { PAUSE_AT: 'promote:before-write' });
      try {
        const photos = db.dataSource.getRepository(Photo);
        const saved: Photo[] = [];
        for (let i = 0; i < 3; i++) {
          const photo = photos.create({ title: `crash ${i}` });
          await web.attachments.attach(photo, 'image', png(3 + i, 3), { filename: 'c.png' });
          saved.push(await photos.save(photo));
        }
        // The copy is done and the column not yet written when the worker dies.
        await worker.line(/^PAUSED /);
        await worker.kill();

        worker = await startWorker(web, db);
        for (const photo of saved) {
          await waitFor(
            async () => (await photos.findOneByOrFail({ id: photo.id })).image?.storage === 'store',
            `photo ${photo.id} to be stored after the crash`,
            60_000,
          );
        }
        await waitForIdle(web, db.dataSource, 60_000);
        assert.deepEqual(
          await storedFiles(web.storages),
          await referencedFiles(db.dataSource, [{ entity: Photo, properties: ['image'] }]),
          'every attachment stored once, no copy left over from the killed attempt',
        );
      } finally {
        await worker.kill();
        await web.close();
        await db.dataSource.getRepository(Photo).clear();
      }
    });

    it('a worker killed right after its write: what follows is not lost, even if the record moves on', async () => {
      const web = await startHarness({ dataSource: db.dataSource, worker: false });
      const events = { EVENTS: '1', RELAY_INTERVAL_MS: '200' };
      let worker: WorkerProcess = await startWorker(web, db, {
        ...events,
        PAUSE_AT: 'promote:after-write',
      });
      try {
        const photos = db.dataSource.getRepository(Photo);
        const photo = photos.create({ title: 'killed after write' });
        await web.attachments.attach(photo, 'image', png(8, 8), { filename: 'k.png' });
        const first = photo.image!;
        await photos.save(photo);
        await worker.line(/^PAUSED /);
        await worker.kill();
        const waiting = await db.dataSource.getRepository(AttachmentWork).find();
        const promotedEvent = waiting.find((row) => row.kind === 'notify')?.id;
        assert.ok(
          promotedEvent,
          `the promotion's event waits in the outbox: ${waiting.length} rows`,
        );
        assert.equal(
          (await photos.findOneByOrFail({ id: photo.id })).image?.storage,
          'store',
          'the write committed before the kill',
        );

        // The record moves on before any worker runs again.
        const loaded = await photos.findOneByOrFail({ id: photo.id });
        await web.attachments.attach(loaded, 'image', png(9, 9), { filename: 'l.png' });
        await photos.save(loaded);

        worker = await startWorker(web, db, events);
        await waitForIdle(web, db.dataSource, 60_000);
        assert.equal(
          await web.storages.cache!.stat(first.id),
          null,
          'the first cached copy is deleted',
        );
        assert.deepEqual(
          await storedFiles(web.storages),
          await referencedFiles(db.dataSource, [{ entity: Photo, properties: ['image'] }]),
          'nothing orphaned: the first stored file went with the replace',
        );
        const promotedIds = worker.lines
          .filter((line) => line.startsWith('EVENT '))
          .map((line) => JSON.parse(line.slice(6)) as { type: string; id?: string })
          .filter((event) => event.type === 'promoted')
          .map((event) => event.id);
        assert.ok(
          promotedIds.includes(promotedEvent),
          `the promotion's event is delivered by the next worker: ${promotedIds.join(', ')}`,
        );
      } finally {
        await worker.kill();
        await web.close();
      }
    });
  });
}
