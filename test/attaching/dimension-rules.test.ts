import '../support/harness.js';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { before, describe, it } from 'node:test';
import { Entity, PrimaryGeneratedColumn, type Repository } from 'typeorm';
import {
  Attachment,
  Attachments,
  ImageDimensionsError,
  TokenAlreadyUsedError,
  type UploadedFile,
} from '../../src/index.js';
import { photo } from '../derivatives/images.js';
import { png } from '../support/fixtures.js';
import { storedFiles, type Harness } from '../support/harness.js';
import { useHarness } from '../support/suite.js';

@Entity()
class Poster {
  @PrimaryGeneratedColumn()
  id!: number;

  @Attachment({ minWidth: 20, maxWidth: 40, minHeight: 10, maxHeight: 30 })
  image!: UploadedFile | null;

  @Attachments({ minWidth: 20 })
  gallery!: UploadedFile[] | null;
}

/**
 * A whole JPEG whose frame header lies past the first 256 KiB, behind application segments:
 * its type is read from its first bytes, its dimensions are not.
 */
async function jpegWithLateDimensions(): Promise<Buffer> {
  const jpeg = await photo(30, 20).jpeg().toBuffer();
  const segment = Buffer.alloc(2 + 2 + 65533);
  segment.set([0xff, 0xef]); // APP15, which no decoder reads
  segment.writeUInt16BE(65535, 2);
  const padding = Array.from({ length: 5 }, () => segment);
  return Buffer.concat([jpeg.subarray(0, 2), ...padding, jpeg.subarray(2)]);
}

describe('dimension rules at attach', () => {
  const suite = useHarness('sqlite', [Poster], { worker: false });
  let harness: Harness;
  let posters: Repository<Poster>;
  before(() => {
    harness = suite.harness;
    posters = suite.db.dataSource.getRepository(Poster);
  });

  /**
   * Attaching `token` fails with the ImageDimensionsError `expected` describes, and the cached
   * file it named (`id`) is deleted, its token spent.
   */
  async function refused(token: string, id: string, expected: Record<string, unknown>) {
    const poster = posters.create();
    const error: unknown = await harness.attachments
      .attach(poster, 'image', token)
      .catch((e: unknown) => e);
    assert.ok(error instanceof ImageDimensionsError, String(error));
    const { rule, limit, width, height, message } = error;
    assert.deepEqual({ rule, limit, width, height, message }, expected);
    assert.equal(poster.image, undefined, 'the attachment is not set');
    assert.ok(!(await storedFiles(harness.storages)).includes(`cache:${id}`), 'deleted');
    await assert.rejects(
      harness.attachments.attach(posters.create(), 'image', token),
      TokenAlreadyUsedError,
    );
  }

  const breaking = [
    [png(19, 20), 'minWidth', 20, 'a width of at least'],
    [png(41, 20), 'maxWidth', 40, 'a width of at most'],
    [png(30, 9), 'minHeight', 10, 'a height of at least'],
    [png(30, 31), 'maxHeight', 30, 'a height of at most'],
  ] as const;
  for (const [image, rule, limit, needs] of breaking) {
    it(`refuses a file cached without rules that breaks ${rule}, and deletes it`, async () => {
      const { token, file } = await harness.attachments.cache(image, { filename: 'p.png' });
      const { width, height } = file.metadata;
      await refused(token, file.id, {
        rule,
        limit,
        width,
        height,
        message: `Image is ${width}x${height}; this attachment needs ${needs} ${limit} px`,
      });
    });
  }

  it('measures a file that reached the cache another way (a direct upload) at attach', async () => {
    const id = `${randomUUID()}.png`;
    await harness.storages.cache!.upload(id, Readable.from([png(30, 31)]));
    await refused(harness.attachments.issueToken({ id }), id, {
      rule: 'maxHeight',
      limit: 30,
      width: 30,
      height: 31,
      message: 'Image is 30x31; this attachment needs a height of at most 30 px',
    });
  });

  it('judges the image as shown: an EXIF turn by 90 degrees swaps width and height', async () => {
    // Stored 40 × 20, shown 20 × 40 (orientation 6): taller than maxHeight 30.
    const turned = await photo(40, 20).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const { token, file } = await harness.attachments.cache(turned);
    assert.deepEqual([file.metadata.width, file.metadata.height], [20, 40]);
    await refused(token, file.id, {
      rule: 'maxHeight',
      limit: 30,
      width: 20,
      height: 40,
      message: 'Image is 20x40; this attachment needs a height of at most 30 px',
    });
  });

  it('refuses an image whose dimensions could not be read', async () => {
    const { token, file } = await harness.attachments.cache(await jpegWithLateDimensions());
    assert.equal(file.metadata.mimeType, 'image/jpeg');
    assert.equal(file.metadata.width, undefined, 'the frame header is past the head');
    await refused(token, file.id, {
      rule: 'minWidth',
      limit: 20,
      width: undefined,
      height: undefined,
      message:
        'Image dimensions could not be read; this attachment needs a width of at least 20 px',
    });
  });

  it('attaches an image within the rules, at their edges, and a file that is no image', async () => {
    for (const [width, height] of [
      [20, 10],
      [40, 30],
    ]) {
      const { token } = await harness.attachments.cache(png(width!, height!));
      const poster = posters.create();
      const file = await harness.attachments.attach(poster, 'image', token);
      assert.deepEqual([file?.metadata.width, file?.metadata.height], [width, height]);
    }
    const { token } = await harness.attachments.cache(Buffer.from('plain words'));
    const file = await harness.attachments.attach(posters.create(), 'image', token);
    assert.equal(file?.metadata.mimeType, 'text/plain');
  });

  it('holds the files of an @Attachments() list to its rules', async () => {
    const narrow = await harness.attachments.cache(png(19, 40));
    const wide = await harness.attachments.cache(png(20, 40));
    const poster = posters.create();
    await assert.rejects(
      harness.attachments.attachMany(poster, 'gallery', [wide.token, narrow.token]),
      (error: unknown) => error instanceof ImageDimensionsError && error.rule === 'minWidth',
    );
    assert.equal(poster.gallery, undefined, 'nothing is added');
  });
});
