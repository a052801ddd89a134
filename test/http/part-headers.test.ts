import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { InvalidUploadError } from '../../src/core/index.js';
import { PartHeaderGuard } from '../../src/http/part-headers.js';
import { chunksOf } from '../support/streams.js';

const BOUNDARY = 'xBoundary42';

/** A multipart body: a file part of `size` bytes, then a field part with `fieldHeaders`. */
function body(size: number, fieldHeaders: string[]): Buffer {
  return Buffer.concat([
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n\r\n`,
    ),
    Buffer.alloc(size, 'file bytes, no delimiter in them; '),
    Buffer.from(`\r\n--${BOUNDARY}\r\n${fieldHeaders.join('\r\n')}\r\n\r\nvalue`),
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}

/** What the guard lets through of `chunks`, or the error it fails with. */
async function guarded(chunks: Buffer[]): Promise<Buffer | Error> {
  const passed: Buffer[] = [];
  try {
    for await (const chunk of Readable.from(chunks).pipe(new PartHeaderGuard(BOUNDARY))) {
      passed.push(chunk as Buffer);
    }
    return Buffer.concat(passed);
  } catch (error) {
    return error as Error;
  }
}

describe('PartHeaderGuard', () => {
  const clean = body(300 * 1024, ['Content-Disposition: form-data; name="entity"']);
  const twice = body(300 * 1024, [
    'Content-Disposition: form-data; name="entity"',
    'Content-Disposition: form-data; name="other"',
  ]);

  it('passes a body with unambiguous parts through unchanged, however it is cut', async () => {
    for (const size of [1, 7, 13, 64 * 1024, clean.length]) {
      const chunks = size === 1 ? chunksOf(clean.subarray(-2048), 1) : chunksOf(clean, size);
      const expected = size === 1 ? clean.subarray(-2048) : clean;
      const passed = await guarded(chunks);
      assert.ok(Buffer.isBuffer(passed), `chunks of ${size}: ${String(passed)}`);
      assert.ok(passed.equals(expected), `chunks of ${size}`);
    }
  });

  it('refuses a header given twice after a long part, wherever a chunk cuts the delimiter', async () => {
    const delimiter = Buffer.from(
      `\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="entity"`,
    );
    const at = twice.indexOf(delimiter);
    // Every cut across the delimiter, the piece after it ending before the next delimiter:
    // the pieces hold no delimiter whole, only the seams between them do.
    for (let cut = at + 1; cut < at + BOUNDARY.length + 4; cut++) {
      const pieces = [
        twice.subarray(0, cut),
        twice.subarray(cut, at + 60),
        twice.subarray(at + 60),
      ];
      const failure = await guarded(pieces);
      assert.ok(failure instanceof InvalidUploadError, `cut at ${cut}`);
      assert.match(failure.message, /twice/);
    }
    const bytes = [twice.subarray(0, at - 10), ...chunksOf(twice.subarray(at - 10, at + 200), 1)];
    const failure = await guarded([...bytes, twice.subarray(at + 200)]);
    assert.ok(failure instanceof InvalidUploadError, 'a byte at a time');
    assert.ok((await guarded(chunksOf(twice, 64 * 1024))) instanceof InvalidUploadError);
  });
});
