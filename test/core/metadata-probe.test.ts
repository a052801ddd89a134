import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { HEAD_BYTES } from '../../src/core/head-bytes.js';
import { describeHead, MetadataProbe } from '../../src/core/metadata-probe.js';
import { FileTooLargeError } from '../../src/index.js';
import { pdf, png } from '../support/fixtures.js';
import { chunksOf, countingSink } from '../support/streams.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function probe(data: Buffer | Buffer[], filename = 'name.bin', maxSize?: number) {
  const sink = countingSink();
  const p = new MetadataProbe({ maxSize });
  await pipeline(Readable.from(Array.isArray(data) ? data : [data]), p, sink.stream);
  return { metadata: await p.metadata(filename), passed: sink.bytes };
}

/**
 * A minimal baseline JPEG head: SOI, APP1 Exif (big-endian TIFF, one IFD entry: Orientation),
 * SOF0 with the stored (unrotated) dimensions, an SOS with a byte of scan data, EOI. Enough for
 * type and size detection, and whole as the probe's structure check reads it.
 */
function jpegWithOrientation(width: number, height: number, orientation: number): Buffer {
  const tiff = Buffer.from([
    ...[0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08],
    ...[0x00, 0x01],
    ...[0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, orientation, 0x00, 0x00],
    ...[0x00, 0x00, 0x00, 0x00],
  ]);
  const exif = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const app1 = Buffer.alloc(4);
  app1.writeUInt16BE(0xffe1, 0);
  app1.writeUInt16BE(exif.length + 2, 2);
  const sof = Buffer.from([
    ...[0xff, 0xc0, 0x00, 0x11, 0x08],
    ...[height >> 8, height & 0xff, width >> 8, width & 0xff],
    ...[0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01],
  ]);
  const sos = Buffer.from([0xff, 0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11]);
  const scan = Buffer.from([0x00, 0x3f, 0x00, 0x00, 0xff, 0xd9]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app1, exif, sof, sos, scan]);
}

describe('MetadataProbe', () => {
  it('passes every byte through and reports size, sha256 and the given filename', async () => {
    const data = png(7, 5, 3);
    const { metadata, passed } = await probe(chunksOf(data, 10), 'photo.png');
    assert.equal(passed, data.length);
    assert.deepEqual(metadata, {
      filename: 'photo.png',
      size: data.length,
      mimeType: 'image/png',
      width: 7,
      height: 5,
      sha256: sha256(data),
    });
  });

  it('judges the type from the bytes, not the name', async () => {
    const { metadata } = await probe(png(4, 9), 'x.pdf');
    assert.equal(metadata.mimeType, 'image/png');
    assert.equal(metadata.filename, 'x.pdf');
    assert.deepEqual([metadata.width, metadata.height], [4, 9]);
  });

  it('detects a PDF and reports no dimensions for it', async () => {
    const { metadata } = await probe(pdf(), 'report.png');
    assert.equal(metadata.mimeType, 'application/pdf');
    assert.equal(metadata.width, undefined);
    assert.equal(metadata.height, undefined);
  });

  it('calls valid UTF-8 without NUL text/plain', async () => {
    const { metadata } = await probe(Buffer.from('Grüße, 世界 ✓\nline two\n'), 'notes.png');
    assert.equal(metadata.mimeType, 'text/plain');
  });

  it('still calls text text/plain when a multi-byte character straddles the head limit', async () => {
    const data = Buffer.concat([Buffer.alloc(HEAD_BYTES - 1, 'a'), Buffer.from('é and more')]);
    const { metadata } = await probe(chunksOf(data, 64 * 1024));
    assert.equal(metadata.mimeType, 'text/plain');
    assert.equal(metadata.size, data.length);
  });

  it('calls binary with NUL bytes application/octet-stream', async () => {
    const data = Buffer.from([0x13, 0x37, 0x00, 0xff, 0x10, 0x80, 0x00, 0x42, 0x99, 0x7f]);
    const { metadata } = await probe(data, 'a.txt');
    assert.equal(metadata.mimeType, 'application/octet-stream');
  });

  it('calls invalid UTF-8 without NUL application/octet-stream', async () => {
    const { metadata } = await probe(Buffer.from('abc \xc3\x28 def', 'latin1'), 'a.txt');
    assert.equal(metadata.mimeType, 'application/octet-stream');
  });

  it('describes empty input as a 0-byte application/octet-stream', async () => {
    const { metadata, passed } = await probe([], 'empty.png');
    assert.equal(passed, 0);
    assert.deepEqual(metadata, {
      filename: 'empty.png',
      size: 0,
      mimeType: 'application/octet-stream',
      sha256: sha256(Buffer.alloc(0)),
    });
  });

  it('reports JPEG dimensions as displayed when EXIF orientation rotates by 90 degrees', async () => {
    const rotated = await probe(jpegWithOrientation(40, 30, 6), 'r.jpg');
    assert.equal(rotated.metadata.mimeType, 'image/jpeg');
    assert.deepEqual([rotated.metadata.width, rotated.metadata.height], [30, 40]);
    const upright = await probe(jpegWithOrientation(40, 30, 1), 'u.jpg');
    assert.deepEqual([upright.metadata.width, upright.metadata.height], [40, 30]);
  });

  it('accepts a file of exactly maxSize bytes', async () => {
    const data = pdf();
    const { metadata, passed } = await probe(chunksOf(data, 8), 'a.pdf', data.length);
    assert.equal(metadata.size, data.length);
    assert.equal(passed, data.length);
  });

  it('rejects a file over maxSize without passing the excess on', async () => {
    const data = Buffer.alloc(1000, 'x');
    const maxSize = 300;
    const sink = countingSink();
    await assert.rejects(
      pipeline(Readable.from(chunksOf(data, 64)), new MetadataProbe({ maxSize }), sink.stream),
      (error: unknown) => {
        assert.ok(error instanceof FileTooLargeError);
        assert.equal(error.code, 'file_too_large');
        assert.equal(error.maxSize, maxSize);
        assert.match(error.message, /limit of 300 bytes/);
        return true;
      },
    );
    assert.ok(sink.bytes <= maxSize, `${sink.bytes} bytes reached the sink`);
  });

  it('stops reading an over-large stream early', async () => {
    let produced = 0;
    async function* endless() {
      for (let i = 0; i < 100_000; i++) {
        produced++;
        yield Buffer.alloc(64 * 1024, i);
      }
    }
    await assert.rejects(
      pipeline(
        Readable.from(endless()),
        new MetadataProbe({ maxSize: 1024 * 1024 }),
        countingSink().stream,
      ),
      FileTooLargeError,
    );
    // 17 chunks exceed the limit; allow for the streams' read-ahead buffers.
    assert.ok(produced < 100, `${produced} chunks were read`);
  });

  it('streams a 20 MiB input and still gets size and sha256 right', async () => {
    const chunkSize = 64 * 1024;
    const count = (20 * 1024 * 1024) / chunkSize;
    const expected = createHash('sha256');
    async function* source() {
      for (let i = 0; i < count; i++) {
        const chunk = Buffer.alloc(chunkSize, (i * 31 + 7) & 0xff);
        expected.update(chunk);
        yield chunk;
      }
    }
    const sink = countingSink();
    const p = new MetadataProbe();
    await pipeline(Readable.from(source()), p, sink.stream);
    const metadata = await p.metadata('big.bin');
    assert.equal(metadata.size, 20 * 1024 * 1024);
    assert.equal(sink.bytes, 20 * 1024 * 1024);
    assert.equal(metadata.sha256, expected.digest('hex'));
  });
});

describe('describeHead', () => {
  it('gives type and dimensions of a PNG', async () => {
    assert.deepEqual(await describeHead(png(12, 34)), {
      mimeType: 'image/png',
      width: 12,
      height: 34,
    });
  });

  it('gives only the type for a non-image', async () => {
    assert.deepEqual(await describeHead(pdf()), { mimeType: 'application/pdf' });
    assert.deepEqual(await describeHead(Buffer.alloc(0)), {
      mimeType: 'application/octet-stream',
    });
  });

  // A Buffer is often a view on a larger pooled ArrayBuffer; the bytes after it belong to
  // something else and must not become this file's dimensions.
  it('leaves dimensions out when they lie beyond the head', async () => {
    const backing = Buffer.alloc(64);
    png(12, 34).copy(backing);
    const head = backing.subarray(0, 16);
    const described = await describeHead(head);
    assert.equal(described.mimeType, 'image/png');
    assert.equal(described.width, undefined);
    assert.equal(described.height, undefined);
  });
});
