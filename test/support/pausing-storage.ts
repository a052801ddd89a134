import { Transform, type Readable } from 'node:stream';
import type {
  ByteRange,
  CopyMethod,
  Storage,
  StoredObjectListing,
  StoredObjectStat,
  UploadOptions,
  UrlOptions,
} from '../../src/index.js';

/**
 * A storage that delegates to a real one, except that the next copy can be held in the middle:
 * the bytes stream through a gate that awaits `pauseNextCopy`'s callback before passing the
 * first chunk on, so a test acts while the copy is under way. Likewise the next `stat` awaits
 * `pauseNextStat`'s callback before it looks, so a test acts between a check and an inspection.
 */
export class PausingStorage implements Storage {
  private pause?: () => Promise<void>;
  private statPause?: () => Promise<void>;

  constructor(readonly inner: Storage) {}

  pauseNextCopy(during: () => Promise<void>): void {
    this.pause = during;
  }

  pauseNextStat(during: () => Promise<void>): void {
    this.statPause = during;
  }

  async copy(source: Storage, sourceId: string, id: string): Promise<CopyMethod> {
    const during = this.pause;
    this.pause = undefined;
    if (!during) return this.inner.copy(source, sourceId, id);
    const input = await source.open(sourceId);
    let held = false;
    const gate = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        if (held) return done(null, chunk);
        held = true;
        during().then(
          () => done(null, chunk),
          (error: Error) => done(error),
        );
      },
    });
    input.once('error', (error) => gate.destroy(error));
    await this.inner.upload(id, input.pipe(gate));
    return 'stream';
  }

  upload(id: string, body: Readable | Buffer, options?: UploadOptions): Promise<void> {
    return this.inner.upload(id, body, options);
  }
  open(id: string, range?: ByteRange): Promise<Readable> {
    return this.inner.open(id, range);
  }
  async stat(id: string): Promise<StoredObjectStat | null> {
    const during = this.statPause;
    this.statPause = undefined;
    await during?.();
    return this.inner.stat(id);
  }
  exists(id: string): Promise<boolean> {
    return this.inner.exists(id);
  }
  delete(id: string): Promise<void> {
    return this.inner.delete(id);
  }
  deleteMany(ids: readonly string[]): Promise<void> {
    return this.inner.deleteMany(ids);
  }
  list(prefix?: string): AsyncIterable<StoredObjectListing> {
    return this.inner.list(prefix);
  }
  url(id: string, options?: UrlOptions): Promise<string> {
    return this.inner.url(id, options);
  }
  removeIncompleteUploads(olderThan: Date): Promise<number> {
    return this.inner.removeIncompleteUploads?.(olderThan) ?? Promise.resolve(0);
  }
}
