import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { thumbHashToRGBA } from 'thumbhash';
import { Readable } from 'node:stream';
import { AttachmentError, ImageTooLargeError } from '../../src/index.js';
import { ImageProcessingError, placeholderDataUrl } from '../../src/derivatives/image.js';
import { makePlaceholder } from '../../src/derivatives/placeholder.js';
import { png, pngContainer } from '../support/fixtures.js';
import { inputOf, pngBombHeader } from './images.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

async function placeholderOf(bytes: Buffer, type: 'thumbhash' | 'blurhash') {
  const { stream, metadata } = await inputOf(bytes);
  return makePlaceholder(stream, metadata, { type });
}

/** The PNG a data URL holds, and its size as sharp reads it. */
async function pngOf(url: string | null) {
  assert.ok(url, 'a data URL');
  const [head, data] = url.split(',') as [string, string];
  assert.equal(head, 'data:image/png;base64');
  const png = Buffer.from(data, 'base64');
  assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE);
  const { width, height, format } = await sharp(png).metadata();
  return { png, width, height, format };
}

describe('placeholderDataUrl', () => {
  const orange = () =>
    sharp({ create: { width: 240, height: 120, channels: 3, background: '#f08000' } })
      .png()
      .toBuffer();

  it("paints a ThumbHash as a PNG of the size its decoding gives, in the image's colour", async () => {
    const placeholder = await placeholderOf(await orange(), 'thumbhash');
    const { png, width, height } = await pngOf(await placeholderDataUrl({ placeholder }));
    const { w, h } = thumbHashToRGBA(Buffer.from(placeholder.hash, 'base64'));
    assert.deepEqual([width, height], [w, h]);
    const { dominant } = await sharp(png).stats();
    assert.ok(dominant.r > 200 && dominant.g > 96 && dominant.g < 160 && dominant.b < 60);
  });

  it('paints a BlurHash as a PNG of the size it was made at', async () => {
    const placeholder = await placeholderOf(await orange(), 'blurhash');
    assert.deepEqual([placeholder.width, placeholder.height], [32, 16]);
    const { width, height } = await pngOf(await placeholderDataUrl({ placeholder }));
    assert.deepEqual([width, height], [32, 16]);
  });

  it('gives null for metadata without a placeholder', async () => {
    assert.equal(await placeholderDataUrl({}), null);
  });
});

describe('makePlaceholder', () => {
  it('refuses an image over the pixel bound from its header, before decoding it', async () => {
    const { stream, metadata } = await inputOf(pngBombHeader(12000, 12000));
    await assert.rejects(
      makePlaceholder(stream, metadata, { type: 'thumbhash' }),
      (error: unknown) => error instanceof ImageTooLargeError && error.limit === 40_000_000,
    );
    assert.ok(stream.destroyed, 'the download is spared');
  });

  it('leaves a small image at its size: no pixel is made up', async () => {
    const tiny = await sharp({ create: { width: 6, height: 3, channels: 4, background: '#fff' } })
      .png()
      .toBuffer();
    const placeholder = await placeholderOf(tiny, 'blurhash');
    assert.deepEqual([placeholder.width, placeholder.height], [6, 3]);
  });

  it('tells an image it cannot decode from a storage that failed to give the bytes', async () => {
    const corrupt = pngContainer(40, 20, Buffer.from('these bytes are not compressed pixels'));
    await assert.rejects(placeholderOf(corrupt, 'thumbhash'), ImageProcessingError);
    const { metadata } = await inputOf(png(40, 20));
    const failing = new Readable({
      read() {
        this.destroy(new Error('storage unreachable'));
      },
    });
    const error = await makePlaceholder(failing, metadata, { type: 'blurhash' }).catch(
      (e: unknown) => e,
    );
    assert.ok(error instanceof Error && !(error instanceof AttachmentError), String(error));
    assert.equal(error.message, 'storage unreachable');
  });
});
