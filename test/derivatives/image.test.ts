import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { chainDerivatives } from '../../src/derivatives/chain.js';
import type {
  DerivativeFunction,
  DerivativeOutput,
} from '../../src/derivatives/derivative-processor.interface.js';
import { ImageProcessingError, ImageTooLargeError } from '../../src/derivatives/image.errors.js';
import {
  convertImage,
  preprocessImage,
  resizeImage,
  stripImageMetadata,
} from '../../src/derivatives/image.js';
import { AttachmentConfigurationError } from '../../src/core/errors/attachment.error.js';
import { halves, inputOf, peakRss, photo, pngBomb, pngBombHeader } from './images.js';

const jpeg = await photo(1200, 800).jpeg().toBuffer();
const MB = 1024 * 1024;

async function run(derive: DerivativeFunction, bytes: Buffer, dimensions = true) {
  const output = await derive(await inputOf(bytes, { dimensions }));
  assert.ok(Buffer.isBuffer(output.body), 'image helpers return a Buffer');
  return { output, body: output.body, meta: await sharp(output.body).metadata() };
}

function assertType(output: DerivativeOutput, contentType: string, extension: string) {
  assert.deepEqual([output.contentType, output.extension], [contentType, extension]);
}

describe('resizeImage', () => {
  it('fits inside the box, keeping the aspect ratio and the JPEG format', async () => {
    const { output, body, meta } = await run(resizeImage({ width: 200, height: 200 }), jpeg);
    assert.deepEqual([meta.width, meta.height, meta.format], [200, 133, 'jpeg']);
    assert.deepEqual([...body.subarray(0, 3)], [0xff, 0xd8, 0xff]);
    assertType(output, 'image/jpeg', 'jpg');
  });

  it('covers the box exactly with fit cover', async () => {
    const { meta } = await run(resizeImage({ width: 200, height: 200, fit: 'cover' }), jpeg);
    assert.deepEqual([meta.width, meta.height], [200, 200]);
  });

  it('pads to the box with fit contain, transparent in PNG', async () => {
    const png = await photo(1200, 800).png().toBuffer();
    const derive = resizeImage({ width: 200, height: 200, fit: 'contain' });
    const { body, meta } = await run(derive, png);
    assert.deepEqual(
      [meta.width, meta.height, meta.format, meta.hasAlpha],
      [200, 200, 'png', true],
    );
    const { data } = await sharp(body).raw().toBuffer({ resolveWithObject: true });
    assert.equal(data[3], 0, 'the top bar is transparent');
  });

  it('resizes by one side only', async () => {
    const { meta } = await run(resizeImage({ height: 100 }), jpeg);
    assert.deepEqual([meta.width, meta.height], [150, 100]);
  });

  it('does not enlarge a smaller image unless told to', async () => {
    const small = await photo(100, 80).png().toBuffer();
    const kept = await run(resizeImage({ width: 200, height: 200 }), small);
    assert.deepEqual([kept.meta.width, kept.meta.height], [100, 80]);
    const cover = await run(resizeImage({ width: 200, height: 200, fit: 'cover' }), small);
    assert.deepEqual([cover.meta.width, cover.meta.height], [100, 80]);
    const enlarge = resizeImage({ width: 200, height: 200, withoutEnlargement: false });
    const enlarged = await run(enlarge, small);
    assert.deepEqual([enlarged.meta.width, enlarged.meta.height], [200, 160]);
  });

  it('converts to the format asked for', async () => {
    const png = await photo(1200, 800).png().toBuffer();
    const webp = await run(resizeImage({ width: 300, format: 'webp' }), png);
    assert.equal(webp.meta.format, 'webp');
    assert.equal(webp.body.subarray(8, 12).toString('ascii'), 'WEBP');
    assertType(webp.output, 'image/webp', 'webp');
    const avif = await run(resizeImage({ width: 300, format: 'avif' }), jpeg);
    assert.deepEqual([avif.meta.mediaType, avif.meta.compression], ['image/avif', 'av1']);
    assert.equal(avif.body.subarray(4, 12).toString('ascii'), 'ftypavif');
    assertType(avif.output, 'image/avif', 'avif');
    const png2 = await run(resizeImage({ width: 300, format: 'png' }), jpeg);
    assert.equal(png2.body.subarray(1, 4).toString('ascii'), 'PNG');
  });

  it('keeps WebP as WebP, and turns other formats (GIF) into PNG', async () => {
    const webp = await photo(1200, 800).webp().toBuffer();
    assert.equal((await run(resizeImage({ width: 300 }), webp)).meta.format, 'webp');
    const gif = await photo(400, 300).gif().toBuffer();
    const fromGif = await run(resizeImage({ width: 300 }), gif);
    assert.equal(fromGif.meta.format, 'png');
    assertType(fromGif.output, 'image/png', 'png');
  });

  it('applies quality to lossy formats', async () => {
    const low = await run(resizeImage({ width: 600, format: 'webp', quality: 10 }), jpeg);
    const high = await run(resizeImage({ width: 600, format: 'webp', quality: 95 }), jpeg);
    assert.ok(low.body.length * 2 < high.body.length, `${low.body.length} vs ${high.body.length}`);
  });

  it('turns an image upright by its EXIF orientation and writes no metadata', async () => {
    // Stored 1200x800, shown turned 90 degrees clockwise: the left (red) half ends on top.
    const stored = await halves(1200, 800).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const source = await sharp(stored).metadata();
    assert.deepEqual([source.width, source.height, source.orientation], [1200, 800, 6]);
    assert.ok(source.exif && source.icc, 'the source carries EXIF and an ICC profile');

    const { body, meta } = await run(resizeImage({ width: 200, height: 200 }), stored);
    assert.deepEqual([meta.width, meta.height], [133, 200]);
    assert.equal(meta.orientation, undefined);
    assert.deepEqual(
      [meta.exif, meta.icc, meta.xmp, meta.iptc],
      [undefined, undefined, undefined, undefined],
    );
    const { data, info } = await sharp(body).raw().toBuffer({ resolveWithObject: true });
    const pixel = (y: number) => [
      ...data.subarray(y * info.width * 3 + 198, y * info.width * 3 + 201),
    ];
    assert.ok(pixel(10)[0]! > 200 && pixel(10)[2]! < 50, `top is red: ${pixel(10)}`);
    assert.ok(pixel(190)[2]! > 200 && pixel(190)[0]! < 50, `bottom is blue: ${pixel(190)}`);
  });
});

describe('convertImage, stripImageMetadata, preprocessImage', () => {
  it('convertImage keeps the size and lays transparency on white for JPEG', async () => {
    const seeThrough = { r: 0, g: 0, b: 255, alpha: 0 };
    const png = await sharp({
      create: { width: 300, height: 200, channels: 4, background: seeThrough },
    })
      .png()
      .toBuffer();
    const { output, body, meta } = await run(convertImage({ format: 'jpeg', quality: 90 }), png);
    assert.deepEqual([meta.width, meta.height, meta.format], [300, 200, 'jpeg']);
    assertType(output, 'image/jpeg', 'jpg');
    const { data } = await sharp(body).raw().toBuffer({ resolveWithObject: true });
    assert.ok(
      data.subarray(0, 3).every((v) => v > 245),
      `white: ${[...data.subarray(0, 3)]}`,
    );
  });

  it('stripImageMetadata keeps the format and drops EXIF and the ICC profile', async () => {
    const tagged = await photo(600, 400).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const { meta } = await run(stripImageMetadata(), tagged);
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 400, 600]);
    assert.deepEqual([meta.exif, meta.icc, meta.orientation], [undefined, undefined, undefined]);
  });

  it('preprocessImage bounds the original to 2000 px by default', async () => {
    const wide = await photo(3000, 1000).png().toBuffer();
    const kept = await run(preprocessImage(), wide);
    assert.deepEqual([kept.meta.width, kept.meta.height, kept.meta.format], [2000, 667, 'png']);
    const asJpeg = preprocessImage({ width: 1500, height: 1500, format: 'jpeg' });
    const converted = await run(asJpeg, wide);
    assert.deepEqual([converted.meta.width, converted.meta.height], [1500, 500]);
    assert.equal(converted.meta.format, 'jpeg');
  });

  it('chainDerivatives feeds each step the previous result', async () => {
    const derive = chainDerivatives(resizeImage({ width: 400 }), convertImage({ format: 'webp' }));
    const { output, meta } = await run(derive, jpeg);
    assert.deepEqual([meta.width, meta.height, meta.format], [400, 267, 'webp']);
    assertType(output, 'image/webp', 'webp');
  });
});

describe('image derivatives, failures', () => {
  it('rejects a decompression bomb from its header, without the memory to decode it', async () => {
    // 256 million pixels: under sharp's own default limit (268 million), so only ours stops it.
    const bomb = await pngBomb(16_000, 16_000);
    assert.ok(bomb.length < 4 * MB, `the bomb is ${bomb.length} bytes`);
    const derive = resizeImage({ width: 200, height: 200 });
    // Metadata without dimensions: sharp's limitInputPixels has to catch it.
    const input = await inputOf(bomb, { dimensions: false });
    const before = process.memoryUsage().rss;
    const { peak, result } = await peakRss(() => derive(input));
    // Unguarded, this call grows RSS by about 770 MB (measured): the whole image is decoded.
    assert.ok(peak - before < 200 * MB, `RSS grew by ${Math.round((peak - before) / MB)} MB`);
    assert.ok(result instanceof ImageTooLargeError, `got ${String(result)}`);
    assert.equal(result.code, 'image_too_large');
    assert.equal(result.pixels, 256_000_000);
    assert.match(result.message, /16000x16000 = 256,000,000 pixels.*limit of 40,000,000/);
  });

  it('rejects an image known too large from its metadata without reading it', async () => {
    const input = await inputOf(pngBombHeader(50_000, 50_000));
    assert.deepEqual([input.metadata.width, input.metadata.height], [50_000, 50_000]);
    await assert.rejects(resizeImage({ width: 200 })(input), /2,500,000,000 pixels/);
    assert.ok(input.stream.destroyed && !input.stream.readableEnded, 'the download is abandoned');
  });

  it('applies a lower maxInputPixels to ordinary photos', async () => {
    const derive = resizeImage({ width: 200, maxInputPixels: 500_000 });
    for (const dimensions of [true, false]) {
      await assert.rejects(run(derive, jpeg, dimensions), (error: unknown) => {
        assert.ok(error instanceof ImageTooLargeError);
        assert.match(error.message, /1200x800 = 960,000 pixels, more than the limit of 500,000/);
        return true;
      });
    }
  });

  it('rejects bytes that are not an image, and a truncated JPEG', async () => {
    const notImage = Buffer.from('%PDF-1.7\n'.padEnd(5000, 'x'));
    for (const bytes of [notImage, jpeg.subarray(0, jpeg.length / 2)]) {
      await assert.rejects(run(resizeImage({ width: 200 }), bytes), (error: unknown) => {
        assert.ok(error instanceof ImageProcessingError, `got ${String(error)}`);
        assert.equal(error.code, 'image_processing_failed');
        assert.match(error.message, /unsupported image format|premature end of JPEG/);
        return true;
      });
    }
  });

  it('passes a storage failure on as it is', async () => {
    const failure = new Error('connection reset by storage');
    const stream = new Readable({
      read() {
        this.push(jpeg.subarray(0, 1000));
        this.destroy(failure);
      },
    });
    const metadata = { filename: null, size: jpeg.length, mimeType: 'image/jpeg' };
    await assert.rejects(
      resizeImage({ width: 200 })({ stream, metadata }),
      (error) => error === failure,
    );
  });

  it('checks options when the helper is made', () => {
    const bad = [
      () => resizeImage({}),
      () => resizeImage({ width: 0 }),
      () => resizeImage({ width: 10.5 }),
      () => resizeImage({ width: 10, quality: 0 }),
      () => resizeImage({ width: 10, maxInputPixels: -1 }),
      () => resizeImage({ width: 10, fit: 'fill' as 'cover' }),
      () => convertImage({ format: 'gif' as 'png' }),
    ];
    for (const make of bad) assert.throws(make, AttachmentConfigurationError);
  });
});
