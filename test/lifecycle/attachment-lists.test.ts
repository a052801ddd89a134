import '../support/harness.js';
import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import { Entity, PrimaryGeneratedColumn, type Repository } from 'typeorm';
import { Attachments, TooManyFilesError, type UploadedFile } from '../../src/index.js';
import { DATABASES } from '../support/databases.js';
import { png } from '../support/fixtures.js';
import { referencedFiles, storedFiles, waitForIdle, type Harness } from '../support/harness.js';
import { StepGate } from '../support/step-gate.js';
import { useHarness } from '../support/suite.js';

@Entity()
class Album {
  @PrimaryGeneratedColumn()
  id!: number;

  @Attachments({ allowedTypes: ['image/*'], maxCount: 5 })
  photos!: UploadedFile[] | null;
}

const names = (list: UploadedFile[] | null | undefined) =>
  (list ?? []).map((file) => file.metadata.filename);

for (const kind of DATABASES) {
  describe(`@Attachments() lists on ${kind}`, () => {
    const hold = new StepGate();
    const suite = useHarness(kind, [Album], {
      jobHooks: { onStep: hold.pass },
      worker: { concurrency: 5 },
    });
    let harness: Harness;
    let albums: Repository<Album>;
    before(() => {
      harness = suite.harness;
      albums = suite.db.dataSource.getRepository(Album);
    });

    afterEach(async () => {
      hold.open();
      await waitForIdle(harness, suite.db.dataSource);
      assert.deepEqual(
        await storedFiles(harness.storages),
        await referencedFiles(suite.db.dataSource, [{ entity: Album, properties: ['photos'] }]),
        'the storages hold exactly the files the lists name',
      );
    });

    async function newAlbum(...files: string[]): Promise<Album> {
      const album = albums.create({ photos: [] });
      await harness.attachments.attachMany(
        album,
        'photos',
        files.map((_, n) => png(2 + n, 2, n)),
      );
      album.photos!.forEach((file, n) => (file.metadata.filename = files[n]!));
      await albums.save(album);
      await waitForIdle(harness, suite.db.dataSource);
      return albums.findOneByOrFail({ id: album.id });
    }

    it('promotes each new file in place, keeping the order', async () => {
      const album = await newAlbum('a.png', 'b.png');
      assert.deepEqual(names(album.photos), ['a.png', 'b.png']);
      assert.ok(album.photos!.every((file) => file.storage === 'store' && file.source));
    });

    it('adds without replacing, removes by id, reorders, and clears then adds', async () => {
      const album = await newAlbum('a.png', 'b.png');
      const [a, b] = album.photos!;
      await harness.attachments.attachMany(album, 'photos', [png(9, 9)], { filename: 'c.png' });
      await albums.save(album);
      await waitForIdle(harness, suite.db.dataSource);
      let saved = await albums.findOneByOrFail({ id: album.id });
      assert.deepEqual(names(saved.photos), ['a.png', 'b.png', 'c.png']);
      assert.deepEqual(
        [saved.photos![0]!.id, saved.photos![1]!.id],
        [a!.id, b!.id],
        'kept as they were',
      );

      harness.attachments.detach(saved, 'photos', [a!.id]);
      harness.attachments.reorder(saved, 'photos', [saved.photos![1]!.id, saved.photos![0]!.id]);
      await albums.save(saved);
      await waitForIdle(harness, suite.db.dataSource);
      saved = await albums.findOneByOrFail({ id: album.id });
      assert.deepEqual(names(saved.photos), ['c.png', 'b.png']);

      saved.photos = [];
      await harness.attachments.attachMany(saved, 'photos', [png(4, 4)], { filename: 'd.png' });
      await albums.save(saved);
      await waitForIdle(harness, suite.db.dataSource);
      assert.deepEqual(names((await albums.findOneByOrFail({ id: album.id })).photos), ['d.png']);
    });

    it('refuses more files than maxCount', async () => {
      const album = albums.create({ photos: [] });
      const six = Array.from({ length: 6 }, (_, n) => png(2, 2, n));
      await assert.rejects(harness.attachments.attachMany(album, 'photos', six), TooManyFilesError);
      assert.deepEqual(album.photos, []);
    });

    it('refuses, at save, a list that two objects filled past maxCount between them', async () => {
      const album = await newAlbum('base.png');
      const first = await albums.findOneByOrFail({ id: album.id });
      const second = await albums.findOneByOrFail({ id: album.id });
      // Each object passes attachMany()'s own check: 1 + 3 <= 5.
      await harness.attachments.attachMany(first, 'photos', [
        png(3, 3, 1),
        png(3, 3, 2),
        png(3, 3, 3),
      ]);
      await harness.attachments.attachMany(second, 'photos', [
        png(4, 4, 1),
        png(4, 4, 2),
        png(4, 4, 3),
      ]);
      await albums.save(first);
      await assert.rejects(albums.save(second), TooManyFilesError);
      // Uploads that no record took: the sweep's to delete, once they expire.
      const refused = second.photos!.filter((file) => file.storage === 'cache');
      await harness.storages.cache!.deleteMany(refused.map((file) => file.id));
      await waitForIdle(harness, suite.db.dataSource);
      const saved = await albums.findOneByOrFail({ id: album.id });
      assert.equal(saved.photos!.length, 4, 'the first save, nothing of the second');
    });

    it('two promotions writing at the same moment both land in the list', async () => {
      hold.close('promote:before-write');
      const album = albums.create({ photos: [] });
      await harness.attachments.attachMany(album, 'photos', [png(3, 3, 1), png(3, 3, 2)]);
      await albums.save(album);
      await hold.reached(2);
      hold.open();
      await waitForIdle(harness, suite.db.dataSource);
      const saved = await albums.findOneByOrFail({ id: album.id });
      assert.deepEqual(
        saved.photos!.map((file) => file.storage),
        ['store', 'store'],
      );
    });

    it('a file removed while its promotion copies is not written back, and its copy is deleted', async () => {
      hold.close('promote:before-write');
      const album = albums.create({ photos: [] });
      await harness.attachments.attachMany(album, 'photos', [png(5, 5, 1), png(5, 5, 2)]);
      await albums.save(album);
      await hold.reached(2);
      const loaded = await albums.findOneByOrFail({ id: album.id });
      harness.attachments.detach(loaded, 'photos', [loaded.photos![0]!.id]);
      await albums.save(loaded);
      hold.open();
      await waitForIdle(harness, suite.db.dataSource);
      const saved = await albums.findOneByOrFail({ id: album.id });
      assert.equal(saved.photos!.length, 1);
      assert.equal(saved.photos![0]!.storage, 'store');
    });

    it('a list loaded before its promotions keeps their results when saved with a new file', async () => {
      hold.close('promote:before-copy');
      const album = albums.create({ photos: [] });
      await harness.attachments.attachMany(album, 'photos', [png(6, 6, 1)]);
      await albums.save(album);
      await hold.reached(1);
      const stale = await albums.findOneByOrFail({ id: album.id });
      hold.open();
      await waitForIdle(harness, suite.db.dataSource);
      await harness.attachments.attachMany(stale, 'photos', [png(7, 7)]);
      await albums.save(stale);
      await waitForIdle(harness, suite.db.dataSource);
      const saved = await albums.findOneByOrFail({ id: album.id });
      assert.deepEqual(
        saved.photos!.map((file) => file.storage),
        ['store', 'store'],
      );
    });

    it('removing the record deletes every file of the list', async () => {
      const album = await newAlbum('x.png', 'y.png');
      await albums.remove(album);
    });
  });
}
