import { Transform, type Readable } from 'node:stream';
import { type ByteRange } from '../../src/storage/authoring.js';
import { DelegatingStorage } from './delegating-storage.js';

/**
 * A storage that counts the streams it opens and those since closed, so a test can wait until
 * a reader has let go of its file. `failNextOpen` makes the next stream fail after its first
 * chunk, like a disk or a connection to a bucket failing midway.
 */
export class WatchedStorage extends DelegatingStorage {
  opened = 0;
  closed = 0;
  private failure?: Error;

  failNextOpen(error: Error): void {
    this.failure = error;
  }

  override async open(id: string, range?: ByteRange): Promise<Readable> {
    const failure = this.failure;
    this.failure = undefined;
    const stream = await this.inner.open(id, range);
    this.opened++;
    stream.once('close', () => this.closed++);
    if (!failure) return stream;
    let sent = false;
    const failing = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        if (sent) return done(failure);
        sent = true;
        done(null, chunk);
      },
    });
    failing.once('close', () => stream.destroy());
    return stream.pipe(failing);
  }
}
