import '../support/harness.js';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import { Entity, PrimaryGeneratedColumn, type Repository } from 'typeorm';
import { Attachment, type UploadedFile } from '../../src/index.js';
import { resizeImage } from '../../src/derivatives/image.js';
import { waitFor, waitForIdle, type Harness } from '../support/harness.js';
import { useHarness } from '../support/suite.js';
import { photo, pngBomb } from './images.js';

@Entity()
class Picture {
  @PrimaryGeneratedColumn()
  id!: number;

  @Attachment({
    allowedTypes: ['image/*'],
    derivatives: {
      thumb: resizeImage({ width: 200, height: 200, format: 'webp' }),
      square: resizeImage({ width: 120, height: 120, fit: 'cover' }),
    },
  })
  image!: UploadedFile | null;
}

/** The same derivatives, for images up to 300 megapixels: past the uploads' default limit. */
@Entity()
class Panorama {
  @PrimaryGeneratedColumn()
  id!: number;

  @Attachment({
    allowedTypes: ['image/*'],
    maxPixels: 300_000_000,
    derivatives: {
      thumb: resizeImage({ width: 200, height: 200, format: 'webp' }),
      square: resizeImage({ width: 120, height: 120, fit: 'cover' }),
    },
  })
  image!: UploadedFile | null;
}

describe('thumbnails made by sharp in derivative jobs', () => {
  const suite = useHarness('postgres', [Picture, Panorama], {
    jobOptions: { attempts: 1, removeOnComplete: false },
  });
  let harness: Harness;
  let pictures: Repository<Picture>;
  let panoramas: Repository<Panorama>;
  before(() => {
    harness = suite.harness;
    pictures = suite.db.dataSource.getRepository(Picture);
    panoramas = suite.db.dataSource.getRepository(Panorama);
  });

  async function bytes(file: UploadedFile): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await harness.storages[file.storage]!.open(file.id))
      chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  for (const format of ['jpeg', 'png', 'webp'] as const) {
    it(`from a ${format}: declared size and type, measured on the stored bytes`, async () => {
      const original = await photo(1200, 800).toFormat(format).toBuffer();
      const picture = pictures.create();
      await harness.attachments.attach(picture, 'image', original, { filename: `p.${format}` });
      await pictures.save(picture);
      await waitForIdle(harness, suite.db.dataSource, 120_000);
      const { image } = await pictures.findOneByOrFail({ id: picture.id });
      const { thumb, square } = image!.derivatives!;
      assert.deepEqual(
        {
          type: thumb!.metadata.mimeType,
          width: thumb!.metadata.width,
          height: thumb!.metadata.height,
        },
        { type: 'image/webp', width: 200, height: 133 },
      );
      const squareInfo = await sharp(await bytes(square!)).metadata();
      assert.deepEqual(
        [squareInfo.format, squareInfo.width, squareInfo.height],
        [format, 120, 120],
      );
      assert.equal(square!.metadata.mimeType, `image/${format}`);
    });
  }

  it('rejects a decompression bomb in its job, where uploads allow its pixels; the original stays stored', async () => {
    const picture = panoramas.create();
    await harness.attachments.attach(picture, 'image', await pngBomb(16000, 16000), {
      filename: 'bomb.png',
    });
    await panoramas.save(picture);
    const failed = await waitFor(
      async () => {
        const rows = await harness.work.forRecord(picture);
        return rows.filter((row) => row.status === 'failed').length === 2 && rows;
      },
      'both derivative jobs to fail',
      120_000,
    );
    for (const row of failed)
      assert.match(row.lastError ?? '', /ImageTooLargeError: Image is 16000x16000/);
    const { image } = await panoramas.findOneByOrFail({ id: picture.id });
    assert.equal(image?.storage, 'store');
    assert.equal(image?.derivatives, undefined);
  });
});
