import type { GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { resolveByteRange, type ByteRange } from '../storage/index.js';

/**
 * The body of a ranged GET, checked against the object's size and trimmed to the range. S3
 * quietly shortens a range that runs past the end, where the storage contract wants RangeError;
 * and a server may send more than was asked (HTTP allows ignoring Range; s3rver turns
 * `bytes=0-0` into the whole file), where the caller still wants exactly its range.
 */
export function exactRange(
  body: Readable,
  range: ByteRange,
  response: GetObjectCommandOutput,
): Readable {
  const length = response.ContentLength ?? 0;
  const sent = parseContentRange(response.ContentRange) ?? {
    start: 0,
    end: length - 1,
    size: length,
  };
  let wanted: { start: number; end: number };
  try {
    wanted = resolveByteRange(range, sent.size);
    if (sent.start > wanted.start || sent.end < wanted.end) {
      throw new Error(
        `S3 answered bytes ${sent.start}-${sent.end} to a request for ${wanted.start}-${wanted.end}`,
      );
    }
  } catch (error) {
    body.destroy();
    throw error;
  }
  if (sent.start === wanted.start && sent.end === wanted.end) return body;
  return sliceStream(body, wanted.start - sent.start, wanted.end - wanted.start + 1);
}

interface ContentRange {
  start: number;
  end: number;
  size: number;
}

/** Parses `bytes 10-19/100`; undefined for anything else (including `bytes * /100`). */
function parseContentRange(header: string | undefined): ContentRange | undefined {
  const match = header === undefined ? null : /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header.trim());
  if (!match) return undefined;
  const [start, end, size] = match.slice(1).map(Number);
  return { start, end, size };
}

/** The `length` bytes of `source` after its first `skip`; stops reading once they are out. */
function sliceStream(source: Readable, skip: number, length: number): Readable {
  async function* slice(): AsyncGenerator<Buffer> {
    const end = skip + length;
    let position = 0;
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        const from = Math.max(skip - position, 0);
        const to = Math.min(end - position, chunk.length);
        position += chunk.length;
        if (to > from) yield chunk.subarray(from, to);
        if (position >= end) return;
      }
      throw new Error(`Object stream ended after ${position} bytes, before byte ${end - 1}`);
    } finally {
      source.destroy();
    }
  }
  return Readable.from(slice(), { objectMode: false });
}
