import '../support/harness.js';
import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import { Column, Entity, PrimaryGeneratedColumn, type Repository } from 'typeorm';
import { Attachments, type UploadedFile } from '../../src/index.js';
import { AttachmentClaim } from '../../src/persistence/index.js';
import { DATABASES } from '../support/databases.js';
import { Photo } from '../support/entities.js';
import { png } from '../support/fixtures.js';
import { referencedFiles, storedFiles, waitForIdle, type Harness } from '../support/harness.js';
import { StepGate } from '../support/step-gate.js';
import { useHarness } from '../support/suite.js';

@Entity()
class Shelf {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', default: '' })
  label!: string;

  @Attachments({ allowedTypes: ['image/*'] })
  images!: UploadedFile[] | null;
}

/**
 * An object loaded before a job (or another save) changed its row, saved later: its attachment
 * columns say what the row held back then. Saving it must never undo what happened since,
 * however long ago it was loaded. Token claims expire and are swept, so the tests remove them
 * first: staleness must be judged without them.
 */
for (const kind of DATABASES) {
  describe(`stale objects on ${kind}`, () => {
    // Holds promotions where a test needs the record read while its files are still cached.
    const gate = new StepGate();
    const suite = useHarness(kind, [Photo, Shelf], { jobHooks: { onStep: gate.pass } });
    let harness: Harness;
    let photos: Repository<Photo>;
    let shelves: Repository<Shelf>;
    before(() => {
      harness = suite.harness;
      photos = suite.db.dataSource.getRepository(Photo);
      shelves = suite.db.dataSource.getRepository(Shelf);
    });

    afterEach(async () => {
      await waitForIdle(harness, suite.db.dataSource);
      assert.deepEqual(
        await storedFiles(harness.storages),
        await referencedFiles(suite.db.dataSource, [
          { entity: Photo, properties: ['image'] },
          { entity: Shelf, properties: ['images'] },
        ]),
        'the storages hold exactly the files the records name',
      );
    });

    /** What the sweep does to claims once their tokens expired. */
    const expireClaims = () => suite.db.dataSource.getRepository(AttachmentClaim).clear();

    async function savedPhoto(width: number): Promise<Photo> {
      const photo = photos.create({ title: 'fresh' });
      await harness.attachments.attach(photo, 'image', png(width, 2), { filename: 'a.png' });
      return photos.save(photo);
    }

    it('loaded while cached, saved after promotion: the stored file stays', async () => {
      const photo = await savedPhoto(7);
      const stale = await photos.findOneByOrFail({ id: photo.id });
      assert.equal(stale.image?.storage, 'cache');
      await waitForIdle(harness, suite.db.dataSource);
      await expireClaims();

      stale.title = 'renamed';
      await photos.save(stale);
      await waitForIdle(harness, suite.db.dataSource);
      const saved = await photos.findOneByOrFail({ id: photo.id });
      assert.equal(saved.title, 'renamed');
      assert.equal(saved.image?.storage, 'store', 'still the promoted file');
      assert.ok(await harness.storages.store!.stat(saved.image!.id));
    });

    it('loaded while cached, saved after the file was promoted and replaced twice', async () => {
      const photo = await savedPhoto(8);
      const stale = await photos.findOneByOrFail({ id: photo.id });
      await waitForIdle(harness, suite.db.dataSource);
      for (const width of [9, 10]) {
        const loaded = await photos.findOneByOrFail({ id: photo.id });
        await harness.attachments.attach(loaded, 'image', png(width, 2), { filename: 'b.png' });
        await photos.save(loaded);
        await waitForIdle(harness, suite.db.dataSource);
      }
      await expireClaims();

      stale.title = 'very stale';
      await photos.save(stale);
      await waitForIdle(harness, suite.db.dataSource);
      const saved = await photos.findOneByOrFail({ id: photo.id });
      assert.equal(saved.title, 'very stale');
      assert.equal(saved.image?.metadata.width, 10, 'the latest file');
      assert.equal(saved.image?.storage, 'store');
    });

    it('loaded without a file, saved after another save attached one: the file stays', async () => {
      const photo = await photos.save(photos.create({ title: 'empty', image: null }));
      const stale = await photos.findOneByOrFail({ id: photo.id });
      const other = await photos.findOneByOrFail({ id: photo.id });
      await harness.attachments.attach(other, 'image', png(11, 2), { filename: 'c.png' });
      await photos.save(other);
      await waitForIdle(harness, suite.db.dataSource);

      stale.title = 'still empty here';
      await photos.save(stale);
      await waitForIdle(harness, suite.db.dataSource);
      const saved = await photos.findOneByOrFail({ id: photo.id });
      assert.equal(saved.image?.metadata.width, 11);
      assert.equal(saved.image?.storage, 'store');
    });

    it('a list loaded while cached, saved after promotion: the stored elements stay', async () => {
      const shelf = shelves.create({ label: 'fresh', images: [] });
      await harness.attachments.attachMany(shelf, 'images', [png(2, 2, 1), png(3, 2, 2)]);
      gate.close('promote:before-copy');
      await shelves.save(shelf);
      await gate.reached(1);
      const stale = await shelves.findOneByOrFail({ id: shelf.id });
      gate.open();
      assert.deepEqual(
        stale.images?.map((file) => file.storage),
        ['cache', 'cache'],
      );
      await waitForIdle(harness, suite.db.dataSource);
      await expireClaims();

      stale.label = 'renamed';
      await shelves.save(stale);
      await waitForIdle(harness, suite.db.dataSource);
      const saved = await shelves.findOneByOrFail({ id: shelf.id });
      assert.equal(saved.label, 'renamed');
      assert.deepEqual(
        saved.images?.map((file) => [file.storage, file.metadata.width]),
        [
          ['store', 2],
          ['store', 3],
        ],
      );
    });

    it('a stale list that adds a file keeps the elements stored meanwhile', async () => {
      const shelf = shelves.create({ label: 'grow', images: [] });
      await harness.attachments.attachMany(shelf, 'images', [png(4, 2, 3)]);
      await shelves.save(shelf);
      const stale = await shelves.findOneByOrFail({ id: shelf.id });
      await waitForIdle(harness, suite.db.dataSource);
      await expireClaims();

      await harness.attachments.attachMany(stale, 'images', [png(5, 2, 4)]);
      await shelves.save(stale);
      await waitForIdle(harness, suite.db.dataSource);
      const saved = await shelves.findOneByOrFail({ id: shelf.id });
      assert.deepEqual(
        saved.images?.map((file) => [file.storage, file.metadata.width]),
        [
          ['store', 4],
          ['store', 5],
        ],
      );
    });

    it('a fresh attach through a cloned object is still applied', async () => {
      const photo = await savedPhoto(12);
      await waitForIdle(harness, suite.db.dataSource);
      const loaded = await photos.findOneByOrFail({ id: photo.id });
      await harness.attachments.attach(loaded, 'image', png(13, 2), { filename: 'd.png' });
      // Apps often save a spread copy, or a structured clone, of what they changed.
      await photos.save(structuredClone({ ...loaded }));
      await waitForIdle(harness, suite.db.dataSource);
      const saved = await photos.findOneByOrFail({ id: photo.id });
      assert.equal(saved.image?.metadata.width, 13);
      assert.equal(saved.image?.storage, 'store');
    });
  });
}
