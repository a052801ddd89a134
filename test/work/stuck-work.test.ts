import '../support/harness.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { attachmentEntities, AttachmentWork } from '../../src/index.js';
import {
  createTestDatabase,
  SERVER_DATABASES,
  setDatabaseReachable,
  type TestDatabase,
} from '../support/databases.js';
import { Photo } from '../support/entities.js';
import { png } from '../support/fixtures.js';
import { startHarness, waitFor, waitForIdle, type Harness } from '../support/harness.js';
import { startWorker, type WorkerProcess } from '../support/processes.js';
import { RecordingLogger } from '../support/recording-logger.js';

/**
 * Work ends done or visibly failed, whatever fails when: a failure BullMQ records without the
 * worker's handler ever running must still reach the outbox row, where `failed()` lists it
 * and `retry()` takes it.
 */
for (const kind of SERVER_DATABASES) {
  describe(`work that would be stuck, on ${kind}`, () => {
    let db: TestDatabase;

    before(async () => {
      db = await createTestDatabase(kind, [Photo, ...attachmentEntities]);
    });

    after(async () => {
      await db?.close();
    });

    const workOf = () => db.dataSource.getRepository(AttachmentWork).find();

    /** Saves a photo and kills two workers in a row while they hold its promotion. */
    async function stallTwice(web: Harness) {
      const pausing = { PAUSE_AT: 'promote:before-copy', LOCK_MS: '500' };
      let worker: WorkerProcess = await startWorker(web, db, pausing);
      const photos = db.dataSource.getRepository(Photo);
      const photo = photos.create({ title: 'stalls' });
      await web.attachments.attach(photo, 'image', png(6, 6), { filename: 's.png' });
      await photos.save(photo);
      // Killed twice while holding the job: the second stall is one more than BullMQ allows.
      for (let kill = 0; kill < 2; kill++) {
        await worker.line(/^PAUSED /);
        await worker.kill();
        worker = await startWorker(web, db, kill === 0 ? pausing : { RELAY_INTERVAL_MS: '200' });
      }
      return { worker, photo };
    }

    it('a job BullMQ fails for stalling runs again, spending one of its attempts', async () => {
      const web = await startHarness({ dataSource: db.dataSource, worker: false });
      let worker: WorkerProcess | undefined;
      try {
        const stalled = await stallTwice(web);
        worker = stalled.worker;
        await waitForIdle(web, db.dataSource, 60_000);
        const photos = db.dataSource.getRepository(Photo);
        assert.equal(
          (await photos.findOneByOrFail({ id: stalled.photo.id })).image?.storage,
          'store',
        );
        assert.deepEqual(await workOf(), []);
      } finally {
        await worker?.kill();
        await web.close();
        await db.dataSource.getRepository(Photo).clear();
      }
    });

    it('a job that stalls with no attempt left is marked failed, and retry() finishes it', async () => {
      const web = await startHarness({
        dataSource: db.dataSource,
        worker: false,
        jobOptions: { attempts: 1, removeOnComplete: false },
      });
      let worker: WorkerProcess | undefined;
      try {
        const stalled = await stallTwice(web);
        worker = stalled.worker;
        const photo = stalled.photo;
        const photos = db.dataSource.getRepository(Photo);
        const [failed] = await waitFor(async () => {
          const rows = await workOf();
          return rows[0]?.status === 'failed' && rows;
        }, 'the stalled promotion to be marked failed');
        assert.equal(failed!.kind, 'promote');
        assert.match(failed!.lastError ?? '', /stalled/);
        assert.deepEqual(
          (await web.work.failed()).map((work) => work.id),
          [failed!.id],
        );

        assert.equal(await web.work.retry(failed!.id), true);
        await waitForIdle(web, db.dataSource, 60_000);
        assert.equal((await photos.findOneByOrFail({ id: photo.id })).image?.storage, 'store');
        assert.deepEqual(await workOf(), []);
      } finally {
        await worker?.kill();
        await web.close();
        await db.dataSource.getRepository(Photo).clear();
      }
    });

    it('a last attempt that cannot reach the database is marked failed once it is back', async () => {
      const logger = new RecordingLogger();
      let attempts = 0;
      const harness: Harness = await startHarness({
        dataSource: db.dataSource,
        logger,
        relay: { interval: 200, after: 200 },
        jobOptions: { attempts: 2, backoff: { type: 'fixed', delay: 10 }, removeOnComplete: false },
        jobHooks: {
          onStep: async (step) => {
            if (step !== 'promote:before-copy') return;
            // The last attempt fails, and the database goes down with it.
            if (++attempts === 2) await setDatabaseReachable(db, false);
            throw new Error(`store unreachable (injected, attempt ${attempts})`);
          },
        },
      });
      try {
        const photos = db.dataSource.getRepository(Photo);
        const photo = photos.create({ title: 'unlucky twice' });
        await harness.attachments.attach(photo, 'image', png(7, 7), { filename: 'u.png' });
        await photos.save(photo);
        await waitFor(
          async () => logger.errors.some((line) => /Could not record the failure/.test(line)),
          'the failure that could not be recorded',
        );
        await setDatabaseReachable(db, true);

        const [failed] = await waitFor(async () => {
          const rows = await workOf();
          return rows[0]?.status === 'failed' && rows;
        }, 'the relay to record the failure');
        assert.equal(failed!.attempts, 2);
        assert.match(failed!.lastError ?? '', /attempt 2/);
      } finally {
        await setDatabaseReachable(db, true);
        await harness.close();
      }
    });
  });
}
