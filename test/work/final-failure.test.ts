import '../support/harness.js';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Repository } from 'typeorm';
import { AttachmentWork } from '../../src/index.js';
import { SERVER_DATABASES, type TestDatabase } from '../support/databases.js';
import { useHarness } from '../support/suite.js';
import { Photo } from '../support/entities.js';
import { png } from '../support/fixtures.js';
import { listFiles, waitFor, waitForIdle, type Harness } from '../support/harness.js';
import { RecordingLogger } from '../support/recording-logger.js';

for (const kind of SERVER_DATABASES) {
  describe(`a promotion that fails for good, on ${kind}`, () => {
    let db: TestDatabase;
    let harness: Harness;
    let photos: Repository<Photo>;
    const logger = new RecordingLogger();
    let storeIsDown = true;

    const suite = useHarness(kind, [Photo], {
      logger,
      jobHooks: {
        onStep: (step) => {
          if (step === 'promote:before-copy' && storeIsDown) {
            throw new Error('store unreachable (injected)');
          }
        },
      },
    });
    before(() => {
      ({ db, harness } = suite);
      photos = db.dataSource.getRepository(Photo);
    });

    it('keeps the cached file attached, records the failure, logs the context, and can be retried', async () => {
      const photo = photos.create({ title: 'unlucky' });
      const { token, file } = await harness.attachments.cache(png(6, 6), { filename: 'u.png' });
      await harness.attachments.attach(photo, 'image', token);
      await photos.save(photo);

      const [failed] = await waitFor(async () => {
        const rows = await harness.work.forRecord(photo);
        return rows[0]?.status === 'failed' && rows;
      }, 'the promotion to fail three times');
      assert.equal(failed!.kind, 'promote');
      assert.equal(failed!.attempts, 3, 'every configured attempt was made');
      assert.match(failed!.lastError ?? '', /store unreachable \(injected\)/);
      assert.deepEqual(
        (await harness.work.failed()).map((work) => work.id),
        [failed!.id],
      );

      const row = await photos.findOneByOrFail({ id: photo.id });
      assert.deepEqual(row.image, file, 'the record still holds the cached file');
      assert.deepEqual(await listFiles(harness.storages.cache!), [file.id]);
      assert.deepEqual(await listFiles(harness.storages.store!), []);

      assert.equal(logger.warnings.filter((line) => /will retry/.test(line)).length, 2);
      const finalLine = logger.errors.find((line) => /failed for good/.test(line));
      assert.ok(finalLine, 'the final failure is logged');
      for (const fact of [failed!.id, file.id, '"entity":"Photo"', '"attempts":3']) {
        assert.ok(finalLine.includes(fact), `the log line names ${fact}: ${finalLine}`);
      }

      // Old failed work keeps its cached file out of the sweep, whatever its age.
      const sweep = await harness.work.sweep();
      assert.equal(sweep.deletedCachedFiles, 0);
      assert.ok(await harness.storages.cache!.stat(file.id));

      storeIsDown = false;
      assert.equal(await harness.work.retry(failed!.id), true);
      assert.equal(await harness.work.retry(failed!.id), false, 'only failed work is retried');
      await waitForIdle(harness, db.dataSource);
      const promoted = await photos.findOneByOrFail({ id: photo.id });
      assert.equal(promoted.image?.storage, 'store');
      assert.deepEqual(await listFiles(harness.storages.store!), [promoted.image!.id]);
      assert.deepEqual(await listFiles(harness.storages.cache!), [], 'the cached copy is deleted');
      assert.equal(await db.dataSource.getRepository(AttachmentWork).count(), 0);
    });
  });
}
