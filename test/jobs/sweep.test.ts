import '../support/harness.js';
import assert from 'node:assert/strict';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { Repository } from 'typeorm';
import { AttachmentClaim, RESERVED_TEMP_DIR, type UploadedFile } from '../../src/index.js';
import type { TestDatabase } from '../support/databases.js';
import { useHarness } from '../support/suite.js';
import { Photo } from '../support/entities.js';
import { SweepJob } from '../../src/jobs/sweep.job.js';
import { useS3Storages } from '../support/s3rver.js';
import { png } from '../support/fixtures.js';
import { listFiles, startHarness, type Harness } from '../support/harness.js';

const DAY = 24 * 3_600_000;

describe('the cache sweep', () => {
  let db: TestDatabase;
  let harness: Harness;
  let photos: Repository<Photo>;

  const suite = useHarness('postgres', [Photo], { worker: false });
  before(() => {
    ({ db, harness } = suite);
    photos = db.dataSource.getRepository(Photo);
  });

  /** Makes a cached file look as if it was uploaded `age` milliseconds ago. */
  async function age(file: UploadedFile, milliseconds: number) {
    const then = new Date(Date.now() - milliseconds);
    await utimes(join(harness.directory, 'cache', file.id), then, then);
  }

  it('deletes old unattached files only, and keeps what pending work still needs', async () => {
    const abandoned = await harness.attachments.cache(png(3, 3), { filename: 'old.png' });
    const fresh = await harness.attachments.cache(png(4, 4), { filename: 'new.png' });
    const pending = photos.create({ title: 'waiting for a worker' });
    await harness.attachments.attach(pending, 'image', png(5, 5), { filename: 'pending.png' });
    await photos.save(pending);
    await age(abandoned.file, 2 * DAY);
    await age(pending.image!, 2 * DAY);

    const incomplete = join(harness.directory, 'cache', RESERVED_TEMP_DIR, 'interrupted-upload');
    await mkdir(join(incomplete, '..'), { recursive: true });
    await writeFile(incomplete, 'half a file');
    await utimes(incomplete, new Date(Date.now() - 2 * DAY), new Date(Date.now() - 2 * DAY));

    const claims = db.dataSource.getRepository(AttachmentClaim);
    await claims.insert({ fileId: 'long-gone.png', claimedAt: 0, expiresAt: Date.now() - 1 });

    const result = await harness.work.sweep();
    assert.deepEqual(result, {
      deletedCachedFiles: 1,
      removedIncompleteUploads: 1,
      removedClaims: 1,
    });
    assert.deepEqual(
      await listFiles(harness.storages.cache!),
      [fresh.file.id, pending.image!.id].sort(),
    );
    assert.deepEqual(
      (await claims.find()).map((claim) => claim.fileId),
      [pending.image!.id],
      'the claim of the attached file stays: its token must not work twice',
    );
  });

  it('is scheduled as a repeating BullMQ job by worker processes', async () => {
    assert.deepEqual(await harness.queue.getJobSchedulers(), [], 'web-only processes do not');
    const worker = await startHarness({ dataSource: db.dataSource, sweepInterval: 60_000 });
    try {
      const schedulers = await worker.queue.getJobSchedulers();
      assert.deepEqual(
        schedulers.map((scheduler) => ({ name: scheduler.name, every: Number(scheduler.every) })),
        [{ name: 'sweep', every: 60_000 }],
      );
    } finally {
      await worker.close();
    }
  });
});

describe('the cache sweep on S3', () => {
  const s3 = useS3Storages();
  const { storages } = s3;
  const suite = useHarness('postgres', [Photo], { worker: false, storages });

  it('deletes expired cached objects, keeps referenced ones, and aborts stale multipart uploads', async () => {
    const { harness, db } = suite;
    const abandoned = await harness.attachments.cache(png(3, 3), { filename: 'old.png' });
    const pending = db.dataSource.getRepository(Photo).create({ title: 'pending' });
    await harness.attachments.attach(pending, 'image', png(5, 5), { filename: 'p.png' });
    await db.dataSource.getRepository(Photo).save(pending);
    const stale = await storages.cache!.createMultipartUpload('interrupted.bin', {});
    await storages.store!.upload('photo/9/image/kept.png', png(2, 2));

    // As seen a day and an hour from now: every object is past the cache TTL.
    const sweep = harness.app.get(SweepJob, { strict: false });
    const result = await sweep.run(Date.now() + 25 * 3_600_000);
    assert.equal(result.deletedCachedFiles, 1);
    assert.equal(result.removedIncompleteUploads, 1);
    assert.deepEqual(await listFiles(storages.cache!), [pending.image!.id]);
    assert.ok(!(await listFiles(storages.cache!)).includes(abandoned.file.id));
    assert.deepEqual(
      await listFiles(storages.store!),
      ['photo/9/image/kept.png'],
      'the store is never swept',
    );
    assert.deepEqual(
      (await s3.server.openUploads()).map((upload) => upload.uploadId).filter((id) => id === stale),
      [],
    );
  });
});
