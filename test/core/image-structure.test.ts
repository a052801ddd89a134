import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it, before } from 'node:test';
import { ImageStructure } from '../../src/core/image-structure.js';
import { MetadataProbe } from '../../src/core/metadata-probe.js';
import { ImageTooLargeError, MalformedImageError } from '../../src/core/index.js';
import { photo, pngBomb } from '../derivatives/images.js';
import { pdf, png } from '../support/fixtures.js';
import { chunksOf, countingSink } from '../support/streams.js';

/** Feeds `bytes` in chunks of `size` bytes, then ends: what a stream would do. */
function check(bytes: Buffer, size = 65536): void {
  const structure = new ImageStructure();
  for (const chunk of chunksOf(bytes, size)) structure.write(chunk);
  structure.end();
}

function refused(bytes: Buffer, reason: RegExp, size?: number) {
  assert.throws(
    () => check(bytes, size),
    (error: unknown) => {
      assert.ok(error instanceof MalformedImageError, String(error));
      assert.equal(error.code, 'malformed_image');
      assert.match(error.message, reason);
      return true;
    },
  );
}

const formats = ['png', 'jpeg', 'gif', 'webp'] as const;
const html = Buffer.from('<!doctype html><html><body><script>alert(1)</script></body></html>\n');

describe('ImageStructure', () => {
  const images: Record<string, Buffer> = {};
  before(async () => {
    images.png = await photo(64, 48).png().toBuffer();
    images.jpeg = await photo(64, 48).jpeg().toBuffer();
    images.progressive = await photo(64, 48).jpeg({ progressive: true }).toBuffer();
    images.withExif = await photo(300, 200).jpeg({ quality: 95 }).withMetadata().toBuffer();
    images.gif = await photo(64, 48).gif().toBuffer();
    images.webp = await photo(64, 48).webp().toBuffer();
    images.lossless = await photo(64, 48).webp({ lossless: true }).toBuffer();
    images.alpha = await photo(64, 48).ensureAlpha(0.5).webp().toBuffer();
  });

  it('passes whole images of every checked format, in chunks of any size', () => {
    for (const [name, bytes] of Object.entries(images)) {
      for (const size of [1, 3, 7, 4096, bytes.length]) {
        assert.doesNotThrow(() => check(bytes, size), `${name} in chunks of ${size}`);
      }
    }
    assert.doesNotThrow(() => check(png(3, 3)));
  });

  it('lets files of other types through unchecked', () => {
    for (const other of [pdf(), html, Buffer.from('GI'), Buffer.alloc(0), Buffer.alloc(100)]) {
      assert.doesNotThrow(() => check(other, 5));
    }
  });

  it('refuses a truncated image of each format, wherever it is cut', () => {
    for (const name of [...formats, 'progressive']) {
      const bytes = images[name]!;
      for (const cut of [12, 13, 20, 33, Math.floor(bytes.length / 2), bytes.length - 1]) {
        refused(bytes.subarray(0, cut), /./, 11);
      }
    }
  });

  it('refuses an image followed by other bytes (a polyglot)', () => {
    for (const name of formats) {
      refused(Buffer.concat([images[name]!, html]), /bytes after the end of the image/, 1000);
      refused(Buffer.concat([images[name]!, Buffer.from([0])]), /after the end/);
    }
  });

  it('refuses a header followed by an HTML page, and a header alone', () => {
    const pngHeader = images.png!.subarray(0, 33); // signature and IHDR
    refused(Buffer.concat([pngHeader, html]), /PNG/);
    refused(pngHeader, /truncated/);
    refused(images.gif!.subarray(0, 13), /truncated/);
    refused(Buffer.concat([images.jpeg!.subarray(0, 20), html]), /JPEG/);
    const jpegHeader = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00]);
    refused(jpegHeader, /truncated/);
    refused(Buffer.concat([images.webp!.subarray(0, 12), html]), /WebP/);
  });

  it('refuses a PNG chunk whose CRC is wrong', () => {
    const bytes = Buffer.from(images.png!);
    bytes[45] ^= 0xff; // inside the data of the chunk after IHDR
    refused(bytes, /wrong CRC/);
  });

  it('refuses a WebP whose RIFF size does not match its bytes', () => {
    const longer = Buffer.from(images.webp!);
    longer.writeUInt32LE(longer.readUInt32LE(4) + 100, 4);
    refused(longer, /truncated/);
    const shorter = Buffer.from(images.webp!);
    shorter.writeUInt32LE(shorter.readUInt32LE(4) - 2, 4);
    refused(shorter, /past the RIFF size|after the end/);
  });

  it('refuses a GIF without its trailer, and a JPEG without EOI', () => {
    refused(images.gif!.subarray(0, -1), /truncated/);
    refused(images.jpeg!.subarray(0, -2), /truncated/);
  });
});

describe('MetadataProbe: structure and pixels', () => {
  it('fails the stream of a malformed image, and passes a whole one', async () => {
    const whole = await photo(40, 30).jpeg().toBuffer();
    const sink = countingSink();
    const probe = new MetadataProbe();
    await pipeline(Readable.from(chunksOf(whole, 100)), probe, sink.stream);
    assert.equal(sink.bytes, whole.length);
    assert.equal((await probe.metadata(null)).mimeType, 'image/jpeg');
    await assert.rejects(
      pipeline(
        Readable.from(chunksOf(Buffer.concat([whole, html]), 100)),
        new MetadataProbe(),
        countingSink().stream,
      ),
      MalformedImageError,
    );
  });

  it('cuts off a decompression bomb at its header, before its bytes pass on', async () => {
    const bomb = await pngBomb(20000, 20000);
    assert.ok(bomb.length > 1024 * 1024, `a real bomb of ${bomb.length} bytes`);
    const sink = countingSink();
    await assert.rejects(
      pipeline(
        Readable.from(chunksOf(bomb, 65536)),
        new MetadataProbe({ maxPixels: 100_000_000 }),
        sink.stream,
      ),
      (error: unknown) => {
        assert.ok(error instanceof ImageTooLargeError, String(error));
        assert.equal(error.code, 'image_too_large');
        assert.equal(error.limit, 100_000_000);
        assert.deepEqual(error.dimensions, { width: 20000, height: 20000 });
        assert.match(error.message, /20000x20000 = 400,000,000 pixels/);
        return true;
      },
    );
    assert.equal(sink.bytes, 0, 'not one byte reached the storage');
    // Within the limit it passes.
    const sink2 = countingSink();
    await pipeline(
      Readable.from(chunksOf(bomb, 65536)),
      new MetadataProbe({ maxPixels: 400_000_000 }),
      sink2.stream,
    );
    assert.equal(sink2.bytes, bomb.length);
  });
});
