import '../support/harness.js';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { decode } from 'blurhash';
import sharp from 'sharp';
import { thumbHashToRGBA } from 'thumbhash';
import { Entity, PrimaryGeneratedColumn, type Repository } from 'typeorm';
import {
  Attachment,
  Attachments,
  AttachmentSerializer,
  ImageDimensionsError,
  type DerivativeInput,
  type DerivativeOutput,
  type ImagePlaceholder,
  type UploadedFile,
} from '../../src/index.js';
import { placeholderDataUrl } from '../../src/derivatives/image.js';
import { pngContainer } from '../support/fixtures.js';
import { pngBombHeader } from '../derivatives/images.js';
import { waitForIdle, type Harness } from '../support/harness.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { useHarness } from '../support/suite.js';

/** Whatever it is given, a green image 100 × 300: what a preprocess makes of the original. */
async function greenPortrait(input: DerivativeInput): Promise<DerivativeOutput> {
  input.stream.resume();
  const body = await sharp({
    create: { width: 100, height: 300, channels: 3, background: '#00c000' },
  })
    .png()
    .toBuffer();
  return { body, contentType: 'image/png', extension: 'png' };
}

@Entity()
class Artwork {
  @PrimaryGeneratedColumn()
  id!: number;

  @Attachment({ placeholder: 'thumbhash' })
  image!: UploadedFile | null;

  @Attachment({ placeholder: 'blurhash' })
  blurred!: UploadedFile | null;

  @Attachments({ placeholder: 'thumbhash' })
  album!: UploadedFile[] | null;

  @Attachment({ placeholder: 'thumbhash', preprocess: greenPortrait })
  cropped!: UploadedFile | null;

  @Attachment()
  plain!: UploadedFile | null;
}

@Entity()
class Cover {
  @PrimaryGeneratedColumn()
  id!: number;

  @Attachment({
    allowedTypes: ['image/*'],
    minWidth: 400,
    minHeight: 300,
    placeholder: 'thumbhash',
  })
  image!: UploadedFile | null;
}

/** A solid image of one colour, as a PNG. */
function solid(width: number, height: number, background: string): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background } })
    .png()
    .toBuffer();
}

/** The picture a placeholder stands for, decoded with its own package as a page would. */
function decoded(placeholder: ImagePlaceholder | undefined) {
  assert.ok(placeholder, 'the file has a placeholder');
  if (placeholder.type === 'thumbhash') {
    const { w, h, rgba } = thumbHashToRGBA(Buffer.from(placeholder.hash, 'base64'));
    return { width: w, height: h, rgba };
  }
  const { width, height } = placeholder;
  return { width, height, rgba: decode(placeholder.hash, width, height) };
}

/** The mean red, green and blue of RGBA pixels, 0 to 255. */
function averageColour(rgba: ArrayLike<number>): [number, number, number] {
  const sums = [0, 0, 0];
  for (let at = 0; at < rgba.length; at += 4) {
    for (let channel = 0; channel < 3; channel++) sums[channel]! += rgba[at + channel]!;
  }
  const pixels = rgba.length / 4;
  return sums.map((sum) => Math.round(sum / pixels)) as [number, number, number];
}

/**
 * The placeholder was made from a picture of the image's aspect ratio (within a pixel of its
 * small sides), decodes to one of about that ratio, and of a colour near `rgb`. A ThumbHash
 * keeps the ratio only as its numbers of components (7 along the longer side, as many along
 * the shorter as its share gives): half a component of rounding on the shorter side.
 */
function assertStandsFor(
  placeholder: ImagePlaceholder | undefined,
  aspect: number,
  rgb: [number, number, number],
) {
  assert.ok(placeholder, 'the file has a placeholder');
  const near = (width: number, height: number, tolerance: number) =>
    assert.ok(
      Math.abs(width / height / aspect - 1) <= tolerance,
      `${width}x${height} for an aspect ratio of ${aspect.toFixed(2)}`,
    );
  near(placeholder.width, placeholder.height, 1 / Math.min(placeholder.width, placeholder.height));
  const { width, height, rgba } = decoded(placeholder);
  assert.equal(rgba.length, width * height * 4);
  const pixel = 1 / Math.min(width, height);
  const shorterComponents = Math.max(1, Math.round(7 * Math.min(aspect, 1 / aspect)));
  near(width, height, placeholder.type === 'thumbhash' ? 0.5 / shorterComponents + pixel : pixel);
  const average = averageColour(rgba);
  for (let channel = 0; channel < 3; channel++) {
    assert.ok(Math.abs(average[channel]! - rgb[channel]!) <= 40, `${average} near ${rgb}`);
  }
}

describe('placeholders made at promotion', () => {
  const logger = new RecordingLogger();
  const suite = useHarness('sqlite', [Artwork, Cover], { logger });
  let harness: Harness;
  let artworks: Repository<Artwork>;
  before(() => {
    harness = suite.harness;
    artworks = suite.db.dataSource.getRepository(Artwork);
  });

  /** Saves an artwork with `files` attached, waits for its promotions, and reloads it. */
  async function promoted(files: Partial<Record<keyof Artwork, Buffer | Buffer[]>>) {
    const artwork = artworks.create();
    for (const [property, bytes] of Object.entries(files)) {
      const name = property as keyof Artwork & string;
      if (Array.isArray(bytes)) await harness.attachments.attachMany(artwork, name, bytes);
      else await harness.attachments.attach(artwork, name, bytes, { filename: 'art.png' });
    }
    await artworks.save(artwork);
    await waitForIdle(harness, suite.db.dataSource);
    return artworks.findOneByOrFail({ id: artwork.id });
  }

  it('keeps a ThumbHash and a BlurHash of an image that decode to its shape and colour', async () => {
    const saved = await promoted({
      image: await solid(300, 150, '#e01010'),
      blurred: await solid(120, 240, '#1020e0'),
    });
    assert.equal(saved.image?.storage, 'store');
    assert.equal(saved.image.metadata.placeholder?.type, 'thumbhash');
    assertStandsFor(saved.image.metadata.placeholder, 2, [224, 16, 16]);
    assert.equal(saved.blurred?.metadata.placeholder?.type, 'blurhash');
    assert.deepEqual(
      [saved.blurred.metadata.placeholder.width, saved.blurred.metadata.placeholder.height],
      [16, 32],
      'the size of the picture it was made from, which a BlurHash does not carry',
    );
    assertStandsFor(saved.blurred.metadata.placeholder, 0.5, [16, 32, 224]);
  });

  it('makes it of the image as shown, turned by its EXIF orientation', async () => {
    // Stored 300 × 150, shown 150 × 300 (orientation 6): the placeholder is as tall as shown.
    const turned = await sharp({
      create: { width: 300, height: 150, channels: 3, background: '#e01010' },
    })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const saved = await promoted({ image: turned });
    assertStandsFor(saved.image?.metadata.placeholder, 0.5, [224, 16, 16]);
  });

  it('makes one for each image of an @Attachments() list', async () => {
    const saved = await promoted({
      album: [await solid(200, 100, '#e01010'), await solid(100, 100, '#10e010')],
    });
    assert.equal(saved.album?.length, 2);
    assertStandsFor(saved.album[0]!.metadata.placeholder, 2, [224, 16, 16]);
    assertStandsFor(saved.album[1]!.metadata.placeholder, 1, [16, 224, 16]);
  });

  it('makes it of the stored bytes, after preprocessing', async () => {
    const saved = await promoted({ cropped: await solid(300, 150, '#e01010') });
    assert.deepEqual([saved.cropped?.metadata.width, saved.cropped?.metadata.height], [100, 300]);
    assertStandsFor(saved.cropped?.metadata.placeholder, 1 / 3, [0, 192, 0]);
  });

  it('promotes an image it cannot decode without one, and says why in a warning', async () => {
    // Whole by its chunks, so the upload takes it; its compressed pixels are not zlib data.
    const corrupt = pngContainer(40, 20, Buffer.from('these bytes are not compressed pixels'));
    const saved = await promoted({ image: corrupt });
    assert.equal(saved.image?.storage, 'store', 'promoted all the same');
    assert.deepEqual([saved.image.metadata.width, saved.image.metadata.height], [40, 20]);
    assert.equal(saved.image.metadata.placeholder, undefined);
    const warning = logger.warnings.find((line) => line.includes(saved.image!.id));
    assert.match(warning ?? '', /^No thumbhash placeholder for store:\S+\.png: /);
  });

  it('promotes an image over the pixel bound without one, judged from its header', async () => {
    // 49 megapixels: within the uploads' 100, over the 40 a placeholder decodes by default.
    const saved = await promoted({ image: pngBombHeader(7000, 7000) });
    assert.equal(saved.image?.storage, 'store');
    assert.equal(saved.image.metadata.placeholder, undefined);
    const warning = logger.warnings.find((line) => line.includes(saved.image!.id));
    assert.match(warning ?? '', /7000x7000 = 49,000,000 pixels, more than the limit of 40,000,000/);
  });

  it('makes none for a file that is not an image, nor where none is asked for', async () => {
    const saved = await promoted({
      image: Buffer.from('a text, not an image'),
      plain: await solid(30, 30, '#e01010'),
    });
    assert.equal(saved.image?.storage, 'store');
    assert.equal(saved.image.metadata.mimeType, 'text/plain');
    assert.equal(saved.image.metadata.placeholder, undefined);
    assert.equal(saved.plain?.storage, 'store');
    assert.equal(saved.plain.metadata.placeholder, undefined);
  });

  it('keeps no more than a small hash in the column', async () => {
    const saved = await promoted({ image: await solid(4000, 3000, '#808080') });
    const { placeholder } = saved.image!.metadata;
    assert.ok(placeholder && placeholder.hash.length <= 40, placeholder?.hash);
    assert.ok(Math.max(placeholder.width, placeholder.height) <= 100);
  });

  it('answers the placeholder with the metadata, for a page to paint first', async () => {
    const covers = suite.db.dataSource.getRepository(Cover);
    const serializer = harness.app.get(AttachmentSerializer, { strict: false });
    const small = covers.create();
    await assert.rejects(
      harness.attachments.attach(small, 'image', await solid(399, 300, '#e01010')),
      ImageDimensionsError,
    );
    const saved = covers.create();
    await harness.attachments.attach(saved, 'image', await solid(800, 600, '#e01010'));
    await covers.save(saved);
    await waitForIdle(harness, suite.db.dataSource);

    const cover = await covers.findOneByOrFail({ id: saved.id });
    const answer = await serializer.serialize(cover, 'image');
    // answer.metadata.placeholder: { type: 'thumbhash', hash: '...', width: 100, height: 75 }
    const src = await placeholderDataUrl(answer!.metadata);

    const { type, width, height } = answer!.metadata.placeholder!;
    assert.deepEqual({ type, width, height }, { type: 'thumbhash', width: 100, height: 75 });
    assert.match(src ?? '', /^data:image\/png;base64,/);
  });
});
