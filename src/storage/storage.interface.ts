import type { Readable } from 'node:stream';

/** An inclusive byte range, as in an HTTP `Range: bytes=start-end` header. */
export interface ByteRange {
  start: number;
  /** Inclusive; omitted means "to the end of the file". */
  end?: number;
}

export interface StoredObjectStat {
  size: number;
  lastModified: Date;
  contentType?: string;
}

export interface StoredObjectListing extends StoredObjectStat {
  id: string;
}

export interface UploadOptions {
  contentType?: string;
  /** Fail with FileTooLargeError once more than this many bytes have arrived. */
  maxSize?: number;
}

export interface ListOptions {
  /**
   * A storage may leave out files it knows were modified at or after this time, without
   * looking at each (the file-system storage reads the time in `newFileId` names). It never
   * leaves out a file modified before it. Callers still compare `lastModified` themselves:
   * any file may be listed.
   */
  modifiedBefore?: Date;
}

export interface UrlOptions {
  /** Seconds the URL stays valid, for storages that sign their URLs. */
  expiresIn?: number;
  /** Suggested download filename (Content-Disposition), where the storage supports it. */
  filename?: string;
}

/**
 * The contract every storage fulfils. Ids are relative, slash-separated keys; a storage rejects
 * any id that could escape its root with InvalidFileIdError. Uploads are atomic: a failed or
 * aborted upload leaves nothing under the id.
 */
export interface Storage {
  /**
   * Where the storage keeps its files, as a URL-like string ending in `/`, such as
   * `file:///srv/files/cache/` or `s3://aws/bucket/cache/`. A storage holds every file whose
   * location starts with its own. At startup the module refuses a cache storage whose location
   * equals, contains or lies inside another storage's, since the cache sweep deletes what it
   * lists there. Optional: a storage without it is only told apart from others by identity.
   */
  readonly location?: string;
  upload(id: string, body: Readable | Buffer, options?: UploadOptions): Promise<void>;
  /**
   * Opens the file, or a byte range of it, as a stream. Throws FileNotFoundError, and RangeError
   * unless the range lies entirely within the file (`resolveByteRange` holds the shared rule).
   */
  open(id: string, range?: ByteRange): Promise<Readable>;
  /** Size and modification time, or null when the file does not exist. */
  stat(id: string): Promise<StoredObjectStat | null>;
  /** Deletes the file; deleting a missing file is not an error. */
  delete(id: string): Promise<void>;
  /** Deletes many files, in as few requests as the backend allows; missing files are ignored. */
  deleteMany(ids: readonly string[]): Promise<void>;
  /**
   * Copies `sourceId` of `source` (which may be this storage) to `id` of this storage, without
   * moving bytes through the process where the two storages allow it (hard link, copy-on-write,
   * server-side copy). Returns how the copy was done.
   */
  copy(source: Storage, sourceId: string, id: string): Promise<CopyMethod>;
  /** Lists files whose id starts with `prefix` (all files when omitted), in no given order. */
  list(prefix?: string, options?: ListOptions): AsyncIterable<StoredObjectListing>;
  url(id: string, options?: UrlOptions): Promise<string>;
  /**
   * Removes leftovers of interrupted uploads older than `olderThan` (temporary files, unfinished
   * multipart uploads). Optional: storages without such leftovers omit it.
   */
  removeIncompleteUploads?(olderThan: Date): Promise<number>;
}

/** How `Storage.copy` moved the bytes: `stream` is the only one that passed them through Node. */
export type CopyMethod = 'link' | 'clone' | 'server' | 'stream';
