import type { Readable } from 'node:stream';
import type { Storage } from '../../src/index.js';
import {
  type ByteRange,
  type CopyMethod,
  type ListOptions,
  type StoredObjectListing,
  type StoredObjectStat,
  type UploadOptions,
  type UrlOptions,
} from '../../src/storage/authoring.js';

/** Passes every call to a real storage; tests extend it to step into one operation. */
export class DelegatingStorage implements Storage {
  constructor(readonly inner: Storage) {}

  copy(source: Storage, sourceId: string, id: string): Promise<CopyMethod> {
    return this.inner.copy(source, sourceId, id);
  }
  upload(id: string, body: Readable | Buffer, options?: UploadOptions): Promise<void> {
    return this.inner.upload(id, body, options);
  }
  open(id: string, range?: ByteRange): Promise<Readable> {
    return this.inner.open(id, range);
  }
  stat(id: string): Promise<StoredObjectStat | null> {
    return this.inner.stat(id);
  }
  delete(id: string): Promise<void> {
    return this.inner.delete(id);
  }
  deleteMany(ids: readonly string[]): Promise<void> {
    return this.inner.deleteMany(ids);
  }
  list(prefix?: string, options?: ListOptions): AsyncIterable<StoredObjectListing> {
    return this.inner.list(prefix, options);
  }
  url(id: string, options?: UrlOptions): Promise<string> {
    return this.inner.url(id, options);
  }
  removeIncompleteUploads(olderThan: Date): Promise<number> {
    return this.inner.removeIncompleteUploads?.(olderThan) ?? Promise.resolve(0);
  }
}
