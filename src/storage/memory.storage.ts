import { Readable } from 'node:stream';
import { FileNotFoundError, FileTooLargeError, assertSafeFileId } from '../core/index.js';
import { resolveByteRange } from './byte-range.js';
import { refuseOversizedBuffer } from './byte-limit.js';
import { encodeIdPath } from './id-path.js';
import { streamCopy } from './stream-copy.js';

import type {
  ByteRange,
  CopyMethod,
  Storage,
  StoredObjectListing,
  StoredObjectStat,
  UploadOptions,
} from './storage.interface.js';

interface MemoryObject {
  data: Buffer;
  lastModified: Date;
  contentType?: string;
}

/**
 * Keeps files in a Map. Meant for tests and examples: it buffers whole files, but otherwise
 * behaves like a real storage (streamed size limit, atomic uploads, id validation, ranges).
 */
export class MemoryStorage implements Storage {
  private readonly objects = new Map<string, MemoryObject>();

  async upload(id: string, body: Readable | Buffer, options: UploadOptions = {}): Promise<void> {
    assertSafeFileId(id);
    const { maxSize, contentType } = options;
    refuseOversizedBuffer(body, maxSize);
    const data = Buffer.isBuffer(body)
      ? Buffer.from(body) // copy, so later changes to the caller's buffer do not leak in
      : await readLimited(body, maxSize);
    this.objects.set(id, { data, lastModified: new Date(), contentType });
  }

  async open(id: string, range?: ByteRange): Promise<Readable> {
    const { data } = this.get(id);
    let slice = data;
    if (range) {
      const { start, end } = resolveByteRange(range, data.length);
      slice = data.subarray(start, end + 1);
    }
    // Copy the bytes so a consumer mutating chunks cannot alter the stored file.
    return Readable.from([Buffer.from(slice)], { objectMode: false });
  }

  async stat(id: string): Promise<StoredObjectStat | null> {
    assertSafeFileId(id);
    const object = this.objects.get(id);
    return object ? toStat(object) : null;
  }

  async delete(id: string): Promise<void> {
    assertSafeFileId(id);
    this.objects.delete(id);
  }

  async deleteMany(ids: readonly string[]): Promise<void> {
    // Validate everything first so a bad id does not leave the batch half done.
    ids.forEach(assertSafeFileId);
    for (const id of ids) this.objects.delete(id);
  }

  async copy(source: Storage, sourceId: string, id: string): Promise<CopyMethod> {
    assertSafeFileId(id);
    assertSafeFileId(sourceId);
    if (source instanceof MemoryStorage) {
      const object = source.get(sourceId);
      this.objects.set(id, { ...object, data: Buffer.from(object.data), lastModified: new Date() });
      return 'clone';
    }
    return streamCopy(source, sourceId, this, id);
  }

  async *list(prefix = ''): AsyncGenerator<StoredObjectListing> {
    // Snapshot, so the caller may upload or delete while iterating.
    for (const [id, object] of [...this.objects]) {
      if (id.startsWith(prefix)) yield { id, ...toStat(object) };
    }
  }

  async url(id: string): Promise<string> {
    assertSafeFileId(id);
    return `memory://${encodeIdPath(id)}`;
  }

  private get(id: string): MemoryObject {
    assertSafeFileId(id);
    const object = this.objects.get(id);
    if (!object) throw new FileNotFoundError(id, 'memory');
    return object;
  }
}

function toStat(object: MemoryObject): StoredObjectStat {
  const stat: StoredObjectStat = { size: object.data.length, lastModified: object.lastModified };
  if (object.contentType !== undefined) stat.contentType = object.contentType;
  return stat;
}

/** Collects a stream, failing as soon as more than `maxSize` bytes have arrived. */
async function readLimited(body: Readable, maxSize: number | undefined): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Leaving the loop early (throw) destroys the stream, so the producer stops too.
  for await (const chunk of body as AsyncIterable<unknown>) {
    const buffer = toBuffer(chunk);
    size += buffer.length;
    if (maxSize !== undefined && size > maxSize) throw new FileTooLargeError(maxSize);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, size);
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk);
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
  throw new TypeError(`Upload stream produced a ${typeof chunk}, expected bytes`);
}
