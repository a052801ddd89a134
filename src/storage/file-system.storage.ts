import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import {
  FileNotFoundError,
  InvalidFileIdError,
  assertSafeFileId,
  RESERVED_TEMP_DIR,
} from '../core/index.js';
import { resolveByteRange } from './byte-range.js';
import { byteLimit, refuseOversizedBuffer } from './byte-limit.js';
import { namedAtOrAfter, openDirectory } from './directory-walk.js';
import { encodeIdPath } from './id-path.js';
import { streamCopy } from './stream-copy.js';
import { errorCode, isMissing, pruneEmptyParents, readDirectory, statOrNull } from './fs.utils.js';
import { StorageRoot } from './storage-root.js';

import type {
  ByteRange,
  CopyMethod,
  ListOptions,
  Storage,
  StoredObjectListing,
  StoredObjectStat,
  UploadOptions,
} from './storage.interface.js';

export interface FileSystemStorageOptions {
  /** Root folder; created on the first write. */
  directory: string;
  /** Public URL the root is served under; without it, `url()` returns `file://` URLs. */
  baseUrl?: string;
  /** Mode of stored files, applied regardless of the umask. Default 0o644. */
  permissions?: number;
}

const DELETE_PARALLELISM = 16;
/**
 * What an upload's file stream takes in while a write is in flight: those chunks then go to
 * disk in one writev. At Node's 16 KiB, each chunk of an upload waits for a write of its own.
 */
const WRITE_BUFFER_BYTES = 1024 * 1024;
const STORAGE_NAME = 'file-system';

/**
 * Stores files under a local directory. Writes go to `<root>/.uploading/<uuid>` first and are
 * renamed into place, so readers never see partial files and a crash leaves only temp files,
 * which `removeIncompleteUploads` cleans up. Since files are never modified in place, copies
 * within one filesystem can safely be hard links, which are whole from the start and so are
 * made straight at the target when nothing is there yet.
 */
export class FileSystemStorage implements Storage {
  readonly directory: string;
  /**
   * `file://` URL of the resolved directory, ending in `/`. Resolved with `path.resolve`, not
   * through symlinks: two storages reaching one folder through a symlink are not seen as one.
   */
  readonly location: string;
  private readonly tempDir: string;
  private readonly baseUrl?: string;
  private readonly permissions: number;
  private readonly root: StorageRoot;
  private tempDirMade = false;

  constructor(options: FileSystemStorageOptions) {
    this.directory = path.resolve(options.directory);
    this.root = new StorageRoot(this.directory);
    this.location = pathToFileURL(path.join(this.directory, '/')).href;
    this.tempDir = path.join(this.directory, RESERVED_TEMP_DIR);
    this.baseUrl = options.baseUrl?.replace(/\/+$/, '');
    this.permissions = options.permissions ?? 0o644;
  }

  async upload(id: string, body: Readable | Buffer, options: UploadOptions = {}): Promise<void> {
    const { maxSize } = options;
    const target = await this.root.safePath(id);
    refuseOversizedBuffer(body, maxSize);
    const tmp = await this.newTempPath();
    try {
      const handle = await fs.open(tmp, 'wx', this.permissions);
      try {
        await handle.chmod(this.permissions); // open() honours the umask; we promise the mode
        const source = Buffer.isBuffer(body) ? Readable.from([body], { objectMode: false }) : body;
        const sink = handle.createWriteStream({ highWaterMark: WRITE_BUFFER_BYTES });
        await (maxSize === undefined
          ? pipeline(source, sink)
          : pipeline(source, byteLimit(maxSize), sink));
      } finally {
        // The stream closes the handle itself; this also waits for that close and any in-flight
        // write after an error, so the unlink below cannot race a late write.
        await handle.close();
      }
      await this.moveIntoPlace(tmp, target, id);
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }

  async open(id: string, range?: ByteRange): Promise<Readable> {
    const file = await this.root.safePath(id);
    // Open first and stat the handle: no window in which the file can vanish between the two.
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(file, 'r');
    } catch (error) {
      if (isMissing(error) || errorCode(error) === 'EISDIR') throw this.notFound(id);
      throw error;
    }
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw this.notFound(id);
      const bounds = range ? resolveByteRange(range, stat.size) : {};
      return handle.createReadStream(bounds);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async stat(id: string): Promise<StoredObjectStat | null> {
    const stat = await statOrNull(await this.root.safePath(id));
    return stat?.isFile() ? { size: stat.size, lastModified: stat.mtime } : null;
  }

  async delete(id: string): Promise<void> {
    const file = await this.root.safePath(id);
    try {
      await fs.unlink(file);
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
    await pruneEmptyParents(this.directory, file);
  }

  async deleteMany(ids: readonly string[]): Promise<void> {
    ids.forEach(assertSafeFileId); // a bad id fails the batch before anything is deleted
    let next = 0;
    const errors: unknown[] = [];
    const worker = async (): Promise<void> => {
      while (next < ids.length) {
        await this.delete(ids[next++]).catch((error: unknown) => errors.push(error));
      }
    };
    await Promise.all(Array.from({ length: Math.min(DELETE_PARALLELISM, ids.length) }, worker));
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} deletions failed`);
  }

  async copy(source: Storage, sourceId: string, id: string): Promise<CopyMethod> {
    const target = await this.root.safePath(id);
    if (!(source instanceof FileSystemStorage)) return streamCopy(source, sourceId, this, id);
    const { file: from, entry } = await source.root.checkedPath(sourceId);
    const found = entry === undefined ? await statOrNull(from) : entry;
    if (!found?.isFile()) throw source.notFound(sourceId);
    // A hard link is whole from its first moment: where nothing is at the target yet it goes
    // straight into place, with no temp file to make, rename and remove.
    let linkError: unknown;
    const link = () =>
      fs.link(from, target).catch((error: unknown) => {
        if (isMissing(error)) throw error; // the folder was pruned meanwhile, or the source went
        linkError = error;
      });
    try {
      await this.intoPlace(target, id, link);
    } catch (error) {
      throw isMissing(error) ? source.notFound(sourceId) : error;
    }
    if (linkError === undefined) {
      // The temp folder exists after any write, as uploads and replacing copies leave it: made
      // by the first direct link of this instance, not at every one.
      if (!this.tempDirMade) await fs.mkdir(this.tempDir, { recursive: true });
      this.tempDirMade = true;
      return 'link';
    }
    // EEXIST: the target is replaced through a temp file. Other errors fall back below.
    const tmp = await this.newTempPath();
    try {
      let method: CopyMethod = 'link';
      try {
        await fs.link(from, tmp);
      } catch (error) {
        if (isMissing(error)) throw source.notFound(sourceId);
        // EXDEV (other filesystem), EPERM, EMLINK...: fall back to a (copy-on-write) copy.
        method = 'clone';
        await fs.copyFile(from, tmp, constants.COPYFILE_FICLONE).catch((copyError: unknown) => {
          throw isMissing(copyError) ? source.notFound(sourceId) : copyError;
        });
      }
      await this.moveIntoPlace(tmp, target, id);
      return method;
    } finally {
      // Also covers copying a file onto itself, where rename() keeps both links and succeeds.
      await fs.rm(tmp, { force: true });
    }
  }

  /**
   * With `modifiedBefore`, a file whose `newFileId` name carries a time a minute or more after
   * it is left out without a stat: a cache sweep then stats only the files old enough to
   * expire, and those named before ids carried their time. (A file hard-linked under a new
   * name by `copy()` keeps its source's mtime: it is left out until its name is old enough.)
   */
  async *list(prefix = '', options: ListOptions = {}): AsyncGenerator<StoredObjectListing> {
    // Start below the deepest folder the prefix names, instead of walking the whole tree.
    const folder = prefix.slice(0, Math.max(prefix.lastIndexOf('/'), 0));
    if (folder) {
      // A safe id can only start with `folder/` if folder is itself safe, so an unsafe (or
      // symlinked) folder simply matches nothing.
      try {
        await this.root.safePath(folder);
      } catch (error) {
        if (error instanceof InvalidFileIdError) return;
        throw error;
      }
    }
    const { modifiedBefore } = options;
    const young = modifiedBefore ? namedAtOrAfter(modifiedBefore) : undefined;
    for await (const entry of this.walk(folder, young)) {
      if (entry.id.startsWith(prefix)) yield entry;
    }
  }

  async url(id: string): Promise<string> {
    const file = this.root.lexicalPath(id);
    if (this.baseUrl === undefined) return pathToFileURL(file).href;
    return `${this.baseUrl}/${encodeIdPath(id)}`;
  }

  async removeIncompleteUploads(olderThan: Date): Promise<number> {
    let removed = 0;
    for (const entry of await readDirectory(this.tempDir)) {
      const file = path.join(this.tempDir, entry.name);
      const stat = await fs.lstat(file).catch(() => null);
      if (stat && stat.mtime < olderThan) {
        await fs.rm(file, { force: true, recursive: true });
        removed++;
      }
    }
    return removed;
  }

  /** Files under `relative`, but those whose names the `young` test picks. */
  private async *walk(
    relative: string,
    young: ((name: string) => boolean) | undefined,
  ): AsyncGenerator<StoredObjectListing> {
    for await (const entry of await openDirectory(path.join(this.directory, relative))) {
      const id = relative ? `${relative}/${entry.name}` : entry.name;
      if (!relative && entry.name === RESERVED_TEMP_DIR) continue;
      if (entry.isDirectory()) {
        yield* this.walk(id, young);
      } else if (entry.isFile()) {
        if (young?.(entry.name)) continue;
        // Symlinks are skipped: this storage never creates them and will not serve them.
        const stat = await statOrNull(path.join(this.directory, id));
        if (stat?.isFile()) yield { id, size: stat.size, lastModified: stat.mtime };
      }
    }
  }

  private async newTempPath(): Promise<string> {
    await fs.mkdir(this.tempDir, { recursive: true });
    return path.join(this.tempDir, randomUUID());
  }

  private moveIntoPlace(tmp: string, target: string, id: string): Promise<void> {
    return this.intoPlace(target, id, () => fs.rename(tmp, target));
  }

  /** Makes the folders of `target`, checks them, then runs `place`, which puts a file there. */
  private async intoPlace(target: string, id: string, place: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const folder = path.dirname(target);
        await fs.mkdir(folder, { recursive: true });
        // Again, now that the folders exist: none of them may have become a symlink leading out
        // since the first check. The file itself needs no look: neither rename nor link writes
        // through a symlink there (rename replaces it, link refuses to).
        await this.root.checkFolder(folder, id);
        await place();
        return;
      } catch (error) {
        // A concurrent delete prunes empty folders: it may remove one while mkdir is still
        // creating the path below it, or before the file lands. Make the path again.
        if (errorCode(error) !== 'ENOENT' || attempt >= 5) throw error;
      }
    }
  }

  private notFound(id: string): FileNotFoundError {
    return new FileNotFoundError(id, STORAGE_NAME);
  }
}
