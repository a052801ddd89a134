import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { FileTooLargeError } from '../core/index.js';

/** Fails the stream with FileTooLargeError as soon as more than `maxSize` bytes pass. */
export function byteLimit(maxSize: number): Transform {
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > maxSize) callback(new FileTooLargeError(maxSize));
      else callback(null, chunk);
    },
  });
}

/** A Buffer's size is known up front: refuse it before writing anything. */
export function refuseOversizedBuffer(body: Readable | Buffer, maxSize: number | undefined): void {
  if (Buffer.isBuffer(body) && maxSize !== undefined && body.length > maxSize) {
    throw new FileTooLargeError(maxSize, body.length);
  }
}
