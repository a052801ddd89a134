import '../support/harness.js';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { Repository } from 'typeorm';
import { AttachmentWork, type UploadedFile } from '../../src/index.js';
import { AttachmentClaim, claimOf } from '../../src/persistence/index.js';
import {
  RESERVED_TEMP_DIR,
  newFileId,
  type PromotePayload,
  type WorkPayload,
} from '../../src/core/index.js';
import { SERVER_DATABASES, type TestDatabase } from '../support/databases.js';
import { useHarness } from '../support/suite.js';
import { Photo } from '../support/entities.js';
import { SweepHandler } from '../../src/work/handlers/sweep.handler.js';
import { useS3Storages } from '../support/s3rver.js';
import { png } from '../support/fixtures.js';
import { listFiles, startHarness, waitFor, type Harness } from '../support/harness.js';

const DAY = 24 * 3_600_000;

for (const kind of SERVER_DATABASES) {
  describe(`the cache sweep on ${kind}`, () => {
    let db: TestDatabase;
    let harness: Harness;
    let photos: Repository<Photo>;

    const suite = useHarness(kind, [Photo], { worker: false });
    before(() => {
      ({ db, harness } = suite);
      photos = db.dataSource.getRepository(Photo);
    });

    /** Writes a cached file as if it was uploaded at `at`, by this release or an earlier one. */
    async function cachedAt(at: number, naming: 'v7' | 'v4' = 'v7'): Promise<string> {
      const id = naming === 'v7' ? newFileId('.png', at) : `${randomUUID()}.png`;
      await harness.storages.cache!.upload(id, png(2, 2));
      await utimes(join(harness.directory, 'cache', id), new Date(at), new Date(at));
      return id;
    }

    it('deletes old unattached files only, and keeps what pending work still needs', async () => {
      // Files cached now, seen by a sweep two days from now: past the TTL of a day.
      const abandoned = await harness.attachments.cache(png(3, 3), { filename: 'old.png' });
      const pending = photos.create({ title: 'waiting for a worker' });
      await harness.attachments.attach(pending, 'image', png(5, 5), { filename: 'pending.png' });
      await photos.save(pending);
      const later = Date.now() + 2 * DAY;
      const oldOfEarlierRelease = await cachedAt(Date.now(), 'v4');
      const fresh = [await cachedAt(later), await cachedAt(later, 'v4')];

      const incomplete = join(harness.directory, 'cache', RESERVED_TEMP_DIR, 'interrupted-upload');
      await mkdir(join(incomplete, '..'), { recursive: true });
      await writeFile(incomplete, 'half a file');
      await utimes(incomplete, new Date(Date.now() - 2 * DAY), new Date(Date.now() - 2 * DAY));

      const result = await harness.app.get(SweepHandler, { strict: false }).run(later);
      assert.equal(result.deletedCachedFiles, 2);
      assert.equal(result.removedIncompleteUploads, 1);
      const left = await listFiles(harness.storages.cache!);
      assert.deepEqual(left, [pending.image!.id, ...fresh].sort());
      assert.ok(!left.includes(abandoned.file.id) && !left.includes(oldOfEarlierRelease));
    });

    it('drops expired claims, and keeps the claim of an attached file until its token expires', async () => {
      const fresh = await harness.attachments.cache(png(4, 4), { filename: 'new.png' });
      const attached = photos.create({ title: 'attached' });
      await harness.attachments.attach(attached, 'image', png(5, 5), { filename: 'a.png' });
      await photos.save(attached);
      const claims = db.dataSource.getRepository(AttachmentClaim);
      await claims.insert(claimOf('long-gone.png', 0, Date.now() - 1));
      const before = await listFiles(harness.storages.cache!);

      const result = await harness.work.sweep();
      assert.deepEqual(result, {
        deletedCachedFiles: 0,
        removedIncompleteUploads: 0,
        removedResumableUploads: 0,
        removedClaims: 1,
        droppedFailedWork: 0,
      });
      assert.deepEqual(await listFiles(harness.storages.cache!), before);
      assert.ok(before.includes(fresh.file.id) && before.includes(attached.image!.id));
      assert.deepEqual(
        (await claims.find()).map((claim) => claim.fileId),
        [attached.image!.id],
        'the claim of the attached file stays: its token must not work twice',
      );
    });

    it('among many young cached files, deletes exactly the expired ones', async () => {
      const before = await listFiles(harness.storages.cache!);
      const young: string[] = [];
      for (let n = 0; n < 300; n++) young.push(await cachedAt(Date.now() - (n % 10) * 60_000));
      const expired = [await cachedAt(Date.now() - 2 * DAY), await cachedAt(0, 'v4')];

      const result = await harness.work.sweep();
      assert.equal(result.deletedCachedFiles, expired.length);
      assert.deepEqual(await listFiles(harness.storages.cache!), [...before, ...young].sort());
    });

    it('is scheduled as a repeating BullMQ job by worker processes', async () => {
      assert.deepEqual(await harness.queue.getJobSchedulers(), [], 'web-only processes do not');
      const worker = await startHarness({ dataSource: db.dataSource, sweepInterval: 60_000 });
      try {
        // Set once Redis answers, without holding up the app's start.
        const schedulers = await waitFor(async () => {
          const found = await worker.queue.getJobSchedulers();
          return found.length > 0 && found;
        }, 'the sweep schedule');
        assert.deepEqual(
          schedulers.map((scheduler) => ({ name: scheduler.name, every: Number(scheduler.every) })),
          [{ name: 'sweep', every: 60_000 }],
        );
      } finally {
        await worker.close();
      }
    });
  });
}

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
    const storeUpload = await storages.store!.createMultipartUpload('photo/9/big.bin', {});
    await storages.store!.upload('photo/9/image/kept.png', png(2, 2));

    // As seen a day and an hour from now: every object is past the cache TTL.
    const sweep = harness.app.get(SweepHandler, { strict: false });
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
      (await s3.server.openUploads())
        .map((upload) => upload.uploadId)
        .filter((id) => id === stale || id === storeUpload),
      [storeUpload],
      "the cache's stale upload is aborted; nothing of the store's is touched",
    );
  });
});

for (const kind of SERVER_DATABASES) {
  describe(`the cache sweep over many files and old failures, on ${kind}`, () => {
    const suite = useHarness(kind, [Photo], {
      worker: false,
      failedWorkRetention: 60_000,
    });

    /** A row as the outbox writes it, for states that take many jobs to reach. */
    function workRow(
      id: string,
      payload: WorkPayload,
      extra: Partial<AttachmentWork> = {},
    ): AttachmentWork {
      return Object.assign(new AttachmentWork(), {
        id,
        kind: payload.kind,
        entity: 'Photo',
        recordId: JSON.stringify({ id: 1 }),
        cachedFileId: payload.kind === 'promote' ? payload.file.id : null,
        payload,
        status: 'pending' as const,
        attempts: 0,
        lastError: null,
        createdAt: 0,
        availableAt: 0,
        relayAt: 0,
        failedAt: null,
        ...extra,
      });
    }

    const cachedFile = (id: string): UploadedFile => ({
      id,
      storage: 'cache',
      metadata: { filename: null, size: 1, mimeType: 'application/octet-stream' },
    });

    const promotion = (file: UploadedFile): WorkPayload => ({
      kind: 'promote',
      entity: 'Photo',
      recordId: { id: 1 },
      attachment: 'image',
      file,
      target: { storage: 'store', id: `photo/1/image/${file.id}` },
    });

    it('reads the outbox a batch at a time, and keeps every file that work still reads', async () => {
      const { harness, db } = suite;
      const cache = harness.storages.cache!;
      const referenced: string[] = [];
      const abandoned: string[] = [];
      for (let n = 0; n < 2100; n++) {
        const id = `f${String(n).padStart(5, '0')}.bin`;
        await cache.upload(id, Buffer.from('x'));
        (n % 3 === 0 ? abandoned : referenced).push(id);
      }
      const rows = referenced.map((id, n) =>
        workRow(
          `w${n}`,
          promotion(cachedFile(id)),
          n % 2 ? { status: 'failed', failedAt: Date.now() } : {},
        ),
      );
      for (let n = 0; n < rows.length; n += 500) {
        await db.dataSource.getRepository(AttachmentWork).save(rows.slice(n, n + 500));
      }

      const reads: string[] = [];
      const logger = db.dataSource.logger;
      Object.defineProperty(db.dataSource, 'logger', {
        configurable: true,
        value: {
          ...logger,
          logQuery: (query: string) => {
            if (/FROM ["`]attachment_work["`]/.test(query) && /^SELECT/.test(query))
              reads.push(query);
          },
        },
      });
      let result;
      try {
        result = await harness.app.get(SweepHandler, { strict: false }).run(Date.now() + 2 * DAY);
      } finally {
        Object.defineProperty(db.dataSource, 'logger', { configurable: true, value: logger });
      }
      assert.equal(result.deletedCachedFiles, abandoned.length);
      assert.deepEqual(await listFiles(cache), referenced.sort());
      assert.ok(reads.length > 0);
      for (const query of reads) {
        const bounded = /\bLIMIT\b/.test(query) || (query.match(/\$\d+|\?/g)?.length ?? 0) <= 1000;
        assert.ok(/WHERE/.test(query) && bounded, `an unbounded read of the outbox: ${query}`);
      }
    });

    it('drops failed work past its retention only where nothing is lost', async () => {
      const { harness, db } = suite;
      const photos = db.dataSource.getRepository(Photo);
      const repository = db.dataSource.getRepository(AttachmentWork);
      await repository.clear();
      const attached = await photos.save(
        photos.create({ title: 'still failed', image: cachedFile('still-attached.png') }),
      );
      const moved = await photos.save(photos.create({ title: 'moved on', image: null }));
      const old = { status: 'failed' as const, failedAt: Date.now() - 120_000 };
      const promotionOf = (record: Photo, id: string): WorkPayload => ({
        ...(promotion(cachedFile(id)) as PromotePayload),
        recordId: { id: record.id },
      });
      await repository.save([
        workRow('keep-attached', promotionOf(attached, 'still-attached.png'), old),
        workRow('drop-moved', promotionOf(moved, 'replaced-since.png'), old),
        workRow(
          'drop-derive',
          {
            kind: 'derive',
            entity: 'Photo',
            recordId: { id: attached.id },
            attachment: 'image',
            original: cachedFile('x.png'),
            name: 'thumb',
            target: { storage: 'store', stem: 'x/thumb' },
          },
          old,
        ),
        workRow('keep-delete', { kind: 'delete', reason: 'removed', files: [] }, old),
        workRow('keep-recent', promotionOf(moved, 'recent.png'), {
          status: 'failed',
          failedAt: Date.now(),
        }),
      ]);

      const result = await harness.work.sweep();
      assert.equal(result.droppedFailedWork, 2);
      assert.deepEqual(
        (await repository.find({ where: { status: 'failed' }, order: { id: 'ASC' } })).map(
          (row) => row.id,
        ),
        ['keep-attached', 'keep-delete', 'keep-recent'],
      );
    });

    it('pages through more old failures than a batch, at one failedAt, reading each once', async () => {
      const { harness, db } = suite;
      const repository = db.dataSource.getRepository(AttachmentWork);
      await repository.clear();
      const failedAt = Date.now() - 120_000;
      const derive: WorkPayload = {
        kind: 'derive',
        entity: 'Photo',
        recordId: { id: 1 },
        attachment: 'image',
        original: cachedFile('x.png'),
        name: 'thumb',
        target: { storage: 'store', stem: 'x/thumb' },
      };
      const kept: WorkPayload = { kind: 'delete', reason: 'removed', files: [] };
      // Kept and dropped rows interleaved in id order, all failed at the same millisecond.
      const rows = Array.from({ length: 2500 }, (_, n) =>
        workRow(`w${String(n).padStart(5, '0')}`, n % 2 ? derive : kept, {
          status: 'failed',
          failedAt,
        }),
      );
      for (let n = 0; n < rows.length; n += 500) await repository.save(rows.slice(n, n + 500));

      const result = await harness.work.sweep();
      assert.equal(result.droppedFailedWork, 1250);
      const left = await repository.find({ select: { id: true, kind: true } });
      assert.equal(left.length, 1250);
      assert.ok(left.every((row) => row.kind === 'delete'));
    });
  });
}
