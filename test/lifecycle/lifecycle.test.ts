import '../support/harness.js';
import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import type { Repository } from 'typeorm';
import { AttachmentWork, type UploadedFile } from '../../src/index.js';
import { useS3Storages } from '../support/s3rver.js';
import type { DatabaseKind, TestDatabase } from '../support/databases.js';
import { useHarness } from '../support/suite.js';
import { Dossier, Photo } from '../support/entities.js';
import { pdf, png } from '../support/fixtures.js';
import {
  listFiles,
  referencedFiles,
  storedFiles,
  waitForIdle,
  type Harness,
} from '../support/harness.js';

const variants: { kind: DatabaseKind; files: 'filesystem' | 's3' }[] = [
  { kind: 'postgres', files: 'filesystem' },
  { kind: 'sqlite', files: 'filesystem' },
  { kind: 'mariadb', files: 'filesystem' },
  { kind: 'postgres', files: 's3' },
];

for (const { kind, files } of variants) {
  describe(`attachment lifecycle on ${kind}, files on ${files}`, () => {
    let db: TestDatabase;
    let harness: Harness;
    let photos: Repository<Photo>;

    const s3Storages = files === 's3' ? useS3Storages().storages : {};

    const suite = useHarness(
      kind,
      [Photo, Dossier],
      files === 's3' ? { storages: s3Storages } : {},
    );
    before(() => {
      ({ db, harness } = suite);
      photos = db.dataSource.getRepository(Photo);
    });

    afterEach(async () => {
      await waitForIdle(harness, db.dataSource);
      assert.deepEqual(
        await storedFiles(harness.storages),
        await referencedFiles(db.dataSource, [
          { entity: Photo, properties: ['image'] },
          { entity: Dossier, properties: ['report', 'cover'] },
        ]),
        'every file in the storages is referenced by a record, and no more',
      );
    });

    async function newPhoto(seed: number): Promise<Photo> {
      const photo = photos.create({ title: `photo ${seed}` });
      const { token } = await harness.attachments.cache(png(4 + seed, 3), { filename: 'p.png' });
      await harness.attachments.attach(photo, 'image', token);
      return photo;
    }

    /** Jobs the queue has seen, in any state (completed jobs are kept in these tests). */
    async function jobsSeen(): Promise<number> {
      return harness.queue.getJobCountByTypes(
        'waiting',
        'active',
        'delayed',
        'completed',
        'failed',
      );
    }

    async function readStored(file: UploadedFile): Promise<Buffer> {
      const chunks: Buffer[] = [];
      for await (const chunk of await harness.storages[file.storage]!.open(file.id)) {
        chunks.push(chunk as Buffer);
      }
      return Buffer.concat(chunks);
    }

    it('insert promotes the cached file into the store, under entity/id/attachment', async () => {
      const photo = await newPhoto(1);
      assert.equal(photo.image?.storage, 'cache');
      assert.equal(photo.image?.metadata.mimeType, 'image/png');
      assert.deepEqual([photo.image?.metadata.width, photo.image?.metadata.height], [5, 3]);
      const cachedBytes = await readStored(photo.image!);
      await photos.save(photo);
      await waitForIdle(harness, db.dataSource);

      const saved = await photos.findOneByOrFail({ id: photo.id });
      assert.equal(saved.image?.storage, 'store');
      assert.match(saved.image!.id, new RegExp(`^photo/${photo.id}/image/[0-9a-f-]{36}\\.png$`));
      assert.deepEqual(saved.image?.metadata, photo.image?.metadata);
      assert.deepEqual(await readStored(saved.image!), cachedBytes);
      assert.deepEqual(await listFiles(harness.storages.cache!), [], 'cached copy deleted');
    });

    it('never queues work before the commit: a job finds its row', async () => {
      const photo = await newPhoto(2);
      const before = await jobsSeen();
      await db.dataSource.transaction(async (manager) => {
        await manager.save(photo);
        // A job sent from afterInsert would already be queued (and could run) here.
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(await jobsSeen(), before, 'no job queued inside the transaction');
      });
      await waitForIdle(harness, db.dataSource);
      assert.equal((await photos.findOneByOrFail({ id: photo.id })).image?.storage, 'store');
    });

    it('an update with a new file promotes it and deletes the old one', async () => {
      const photo = await newPhoto(3);
      await photos.save(photo);
      await waitForIdle(harness, db.dataSource);
      const first = (await photos.findOneByOrFail({ id: photo.id })).image!;

      const loaded = await photos.findOneByOrFail({ id: photo.id });
      const { token } = await harness.attachments.cache(png(9, 9), { filename: 'new.png' });
      await harness.attachments.attach(loaded, 'image', token);
      await photos.save(loaded);
      await waitForIdle(harness, db.dataSource);

      const saved = await photos.findOneByOrFail({ id: photo.id });
      assert.equal(saved.image?.storage, 'store');
      assert.equal(saved.image?.metadata.width, 9);
      assert.equal(await harness.storages.store!.stat(first.id), null, 'old file deleted');
    });

    it('setting the attachment to null deletes the file', async () => {
      const photo = await newPhoto(4);
      await photos.save(photo);
      await waitForIdle(harness, db.dataSource);
      const loaded = await photos.findOneByOrFail({ id: photo.id });
      const stored = loaded.image!;
      await harness.attachments.attach(loaded, 'image', null);
      await photos.save(loaded);
      await waitForIdle(harness, db.dataSource);
      assert.equal(await harness.storages.store!.stat(stored.id), null);
    });

    it('remove deletes every file of the record', async () => {
      const dossier = db.dataSource.getRepository(Dossier).create();
      await harness.attachments.attach(dossier, 'report', pdf(), { filename: 'r.pdf' });
      await harness.attachments.attach(dossier, 'cover', png(2, 2), { filename: 'c.png' });
      await db.dataSource.getRepository(Dossier).save(dossier);
      await waitForIdle(harness, db.dataSource);
      const saved = await db.dataSource.getRepository(Dossier).findOneByOrFail({ id: dossier.id });
      assert.match(saved.report!.id, /^[0-9a-f-]{36}\.pdf$/, 'flat location');
      assert.match(saved.cover!.id, /^custom\/dossier\/cover\/[0-9a-f-]{36}\.png$/);
      await db.dataSource.getRepository(Dossier).remove(saved);
      await waitForIdle(harness, db.dataSource);
      assert.equal(await harness.storages.store!.stat(saved.report!.id), null);
      assert.equal(await harness.storages.store!.stat(saved.cover!.id), null);
    });

    it('soft-remove deletes the files, even while promotion is pending', async () => {
      const repository = db.dataSource.getRepository(Dossier);
      const dossier = repository.create();
      await harness.attachments.attach(dossier, 'report', pdf(), { filename: 'r.pdf' });
      await repository.save(dossier);
      const cached = dossier.report!;
      await repository.softRemove(dossier);
      await waitForIdle(harness, db.dataSource);
      const keys = await storedFiles(harness.storages);
      assert.equal(keys.filter((key) => key.endsWith(cached.id.split('/').pop()!)).length, 0);
    });

    it('a rollback queues nothing and claims nothing', async () => {
      const photo = await newPhoto(5);
      const before = await jobsSeen();
      await assert.rejects(
        db.dataSource.transaction(async (manager) => {
          await manager.save(photo);
          throw new Error('abort');
        }),
        /abort/,
      );
      assert.equal(await db.dataSource.getRepository(AttachmentWork).count(), 0);
      assert.equal(await jobsSeen(), before);
      // The token still works: the file was never taken.
      const retry = photos.create({ title: 'again', image: photo.image });
      await photos.save(retry);
      await waitForIdle(harness, db.dataSource);
      assert.equal((await photos.findOneByOrFail({ id: retry.id })).image?.storage, 'store');
    });

    it('nested transactions send work only at the outermost commit', async () => {
      const kept = await newPhoto(6);
      const dropped = await newPhoto(7);
      const before = await jobsSeen();
      const runner = db.dataSource.createQueryRunner();
      try {
        await runner.startTransaction();
        await runner.startTransaction();
        await runner.manager.save(kept);
        await runner.commitTransaction(); // releases the savepoint only
        await runner.startTransaction();
        await runner.manager.save(dropped);
        await runner.rollbackTransaction(); // rolls back to the savepoint
        assert.equal(await jobsSeen(), before, 'nothing sent before the outer commit');
        await runner.commitTransaction();
      } finally {
        await runner.release();
      }
      await waitForIdle(harness, db.dataSource);
      assert.equal((await photos.findOneByOrFail({ id: kept.id })).image?.storage, 'store');
      assert.equal(await photos.findOneBy({ id: dropped.id }), null);
      assert.equal(await jobsSeen(), before + 2, 'one promotion and its cache cleanup');
      // The dropped photo's cached file stays for the sweep; delete it to keep the check exact.
      await harness.storages.cache!.delete(dropped.image!.id);
    });
  });
}
