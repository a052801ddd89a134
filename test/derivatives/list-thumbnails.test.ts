import '../support/harness.js';
import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { Entity, PrimaryGeneratedColumn, type Repository } from 'typeorm';
import { AttachmentSerializer, Attachments, type UploadedFile } from '../../src/index.js';
import { preprocessImage, resizeImage } from '../../src/derivatives/image.js';
import { referencedFiles, storedFiles, waitForIdle, type Harness } from '../support/harness.js';
import { storedBytes } from '../support/streams.js';
import { useHarness } from '../support/suite.js';
import { photo } from './images.js';

@Entity()
class Gallery {
  @PrimaryGeneratedColumn()
  id!: number;

  @Attachments({
    allowedTypes: ['image/*'],
    maxCount: 10,
    preprocess: preprocessImage({ width: 1000, height: 1000 }),
    derivatives: {
      thumb: resizeImage({ width: 200, height: 200, format: 'webp' }),
      square: {
        processor: resizeImage({ width: 120, height: 120, fit: 'cover' }),
        duringPromotion: true,
      },
    },
  })
  photos!: UploadedFile[] | null;
}

describe('thumbnails of list elements made by sharp', () => {
  const suite = useHarness('postgres', [Gallery], {
    jobOptions: { attempts: 1, removeOnComplete: false },
  });
  let harness: Harness;
  let galleries: Repository<Gallery>;
  let serializer: AttachmentSerializer;
  before(() => {
    harness = suite.harness;
    galleries = suite.db.dataSource.getRepository(Gallery);
    serializer = harness.app.get(AttachmentSerializer, { strict: false });
  });

  afterEach(async () => {
    await waitForIdle(harness, suite.db.dataSource, 120_000);
    assert.deepEqual(
      await storedFiles(harness.storages),
      await referencedFiles(suite.db.dataSource, [{ entity: Gallery, properties: ['photos'] }]),
      'the storages hold exactly the files the list names',
    );
  });

  it('bounds each photo, and gives each its own thumb and square, shown by serializeList', async () => {
    const gallery = galleries.create({ photos: [] });
    const originals = [
      await photo(1600, 800, 1).jpeg().toBuffer(),
      await photo(600, 900, 2).png().toBuffer(),
    ];
    await harness.attachments.attachMany(gallery, 'photos', originals);
    await galleries.save(gallery);
    const pending = await serializer.serializeList(gallery, 'photos');
    assert.deepEqual(
      pending.map((entry) => [entry.state, entry.derivatives.thumb?.ready]),
      [
        ['cached', false],
        ['cached', false],
      ],
    );
    assert.equal(pending[0]!.derivatives.thumb!.url, pending[0]!.url, 'the original meanwhile');

    await waitForIdle(harness, suite.db.dataSource, 120_000);
    const album = await galleries.findOneByOrFail({ id: gallery.id });
    const sizes = album.photos!.map((file) => [
      file.metadata.mimeType,
      file.metadata.width,
      file.metadata.height,
      file.derivatives!.thumb!.metadata.width,
      file.derivatives!.thumb!.metadata.height,
    ]);
    assert.deepEqual(sizes, [
      ['image/jpeg', 1000, 500, 200, 100],
      ['image/png', 600, 900, 133, 200],
    ]);
    for (const file of album.photos!) {
      const square = await sharp(
        await storedBytes(harness.storages, file.derivatives!.square),
      ).metadata();
      assert.deepEqual([square.width, square.height], [120, 120]);
    }

    const photos = await serializer.serializeList(album, 'photos');
    assert.deepEqual(
      photos.map((entry) => [entry.state, entry.derivatives.thumb?.ready]),
      [
        ['stored', true],
        ['stored', true],
      ],
    );
    assert.notEqual(photos[0]!.derivatives.thumb!.url, photos[1]!.derivatives.thumb!.url);
    assert.match(photos[0]!.derivatives.thumb!.url, /\/thumb\.webp\?/);
  });
});
