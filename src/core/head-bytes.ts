import { Transform, type TransformCallback } from 'node:stream';

/**
 * Bytes kept from the start of a file to judge its type and dimensions. Magic numbers sit in the
 * first few KB; JPEG dimensions follow the EXIF block, which is at most 64 KB per segment.
 */
export const HEAD_BYTES = 256 * 1024;

/** Keeps the first HEAD_BYTES of what it is given, and nothing more. */
export class HeadBytes {
  private readonly chunks: Buffer[] = [];
  private length = 0;

  take(chunk: Buffer): void {
    if (this.length >= HEAD_BYTES) return;
    const part = chunk.subarray(0, HEAD_BYTES - this.length);
    this.chunks.push(part);
    this.length += part.length;
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}

/** A pass-through stream that keeps the head of what flows through it. */
export class HeadTap extends Transform {
  private readonly head = new HeadBytes();

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.head.take(chunk);
    done(null, chunk);
  }

  bytes(): Buffer {
    return this.head.bytes();
  }
}
