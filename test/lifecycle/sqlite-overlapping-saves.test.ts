import '../support/harness.js';
import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import { Entity, In, PrimaryGeneratedColumn, type Repository } from 'typeorm';
import { Attachments, type UploadedFile } from '../../src/index.js';
import { Photo } from '../support/entities.js';
import { png } from '../support/fixtures.js';
import { referencedFiles, storedFiles, waitForIdle, type Harness } from '../support/harness.js';
import { useHarness } from '../support/suite.js';

@Entity()
class Reel {
  @PrimaryGeneratedColumn()
  id!: number;

  @Attachments({ allowedTypes: ['image/*'] })
  frames!: UploadedFile[] | null;
}

/**
 * SQLite gives TypeORM one connection: two saves started together interleave on it, inside one
 * transaction, with no row lock to order their reads and writes.
 */
describe('overlapping saves of one record on sqlite', () => {
  const suite = useHarness('sqlite', [Reel, Photo]);
  let harness: Harness;
  let reels: Repository<Reel>;
  let photos: Repository<Photo>;
  before(() => {
    harness = suite.harness;
    reels = suite.db.dataSource.getRepository(Reel);
    photos = suite.db.dataSource.getRepository(Photo);
  });

  afterEach(async () => {
    await waitForIdle(harness, suite.db.dataSource);
    assert.deepEqual(
      await storedFiles(harness.storages),
      await referencedFiles(suite.db.dataSource, [
        { entity: Reel, properties: ['frames'] },
        { entity: Photo, properties: ['image'] },
      ]),
      'the storages hold exactly the files the records name',
    );
  });

  it('two saves adding to one list, started together, keep both new files', async () => {
    const reel = reels.create({ frames: [] });
    await harness.attachments.attachMany(reel, 'frames', [png(2, 2, 1)]);
    await reels.save(reel);
    await waitForIdle(harness, suite.db.dataSource);
    const first = await reels.findOneByOrFail({ id: reel.id });
    const second = await reels.findOneByOrFail({ id: reel.id });
    await harness.attachments.attachMany(first, 'frames', [png(3, 2, 2)]);
    await harness.attachments.attachMany(second, 'frames', [png(4, 2, 3)]);

    await Promise.all([reels.save(first), reels.save(second)]);
    await waitForIdle(harness, suite.db.dataSource);
    const saved = await reels.findOneByOrFail({ id: reel.id });
    assert.deepEqual(saved.frames?.map((file) => [file.storage, file.metadata.width]).sort(), [
      ['store', 2],
      ['store', 3],
      ['store', 4],
    ]);
  });

  it('two saves replacing one file, started together, leave one file and delete the others', async () => {
    const photo = photos.create({ title: 'twice' });
    await harness.attachments.attach(photo, 'image', png(5, 2), { filename: 'a.png' });
    await photos.save(photo);
    await waitForIdle(harness, suite.db.dataSource);
    const first = await photos.findOneByOrFail({ id: photo.id });
    const second = await photos.findOneByOrFail({ id: photo.id });
    await harness.attachments.attach(first, 'image', png(6, 2), { filename: 'b.png' });
    await harness.attachments.attach(second, 'image', png(7, 2), { filename: 'c.png' });

    await Promise.all([photos.save(first), photos.save(second)]);
    await waitForIdle(harness, suite.db.dataSource);
    const saved = await photos.findOneByOrFail({ id: photo.id });
    assert.equal(saved.image?.storage, 'store');
    assert.ok([6, 7].includes(saved.image!.metadata.width!), 'one of the two new files');
  });

  it('one save of two records takes a hold for each and waits for neither', async () => {
    const one = reels.create({ frames: [] });
    const two = reels.create({ frames: [] });
    await reels.save([one, two]);
    await harness.attachments.attachMany(one, 'frames', [png(2, 3, 1)]);
    await harness.attachments.attachMany(two, 'frames', [png(3, 3, 2)]);
    await reels.save([one, two]);
    await waitForIdle(harness, suite.db.dataSource);
    const saved = await reels.findBy({ id: In([one.id, two.id]) });
    assert.deepEqual(
      saved.map((reel) => reel.frames?.map((file) => [file.storage, file.metadata.width])).sort(),
      [[['store', 2]], [['store', 3]]],
    );
  });

  it('a save that failed in a transaction leaves no hold behind for the next one', async () => {
    const photo = await photos.save(photos.create({ title: 'kept' }));
    await suite.db.dataSource.transaction(async (manager) => {
      const loaded = await manager.findOneByOrFail(Photo, { id: photo.id });
      await harness.attachments.attach(loaded, 'image', png(8, 2), { filename: 'd.png' });
      const title = loaded.title;
      Object.assign(loaded, { title: null });
      await assert.rejects(manager.save(loaded), /NOT NULL/);
      loaded.title = title;
      await manager.save(loaded);
    });
    await waitForIdle(harness, suite.db.dataSource);
    const saved = await photos.findOneByOrFail({ id: photo.id });
    assert.equal(saved.image?.metadata.width, 8);
    assert.equal(saved.image?.storage, 'store');
  });

  it('a removal overlapping a save of the same record deletes every file', async () => {
    const reel = reels.create({ frames: [] });
    await harness.attachments.attachMany(reel, 'frames', [png(5, 3, 1)]);
    await reels.save(reel);
    await waitForIdle(harness, suite.db.dataSource);
    const kept = await reels.findOneByOrFail({ id: reel.id });
    const removed = await reels.findOneByOrFail({ id: reel.id });
    await harness.attachments.attachMany(kept, 'frames', [png(6, 3, 2)]);
    await Promise.all([reels.save(kept), reels.remove(removed)]);
    await waitForIdle(harness, suite.db.dataSource);
    assert.equal(await reels.findOneBy({ id: reel.id }), null);
    // When the removal went first, the save found no row and took no file: an upload no record
    // took, the sweep's to delete once it expires.
    const upload = kept.frames!.find((file) => file.metadata.width === 6)!;
    await harness.storages.cache!.delete(upload.id);
  });
});
