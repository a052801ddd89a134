import { Readable } from 'node:stream';
import { HEAD_BYTES, MetadataProbe, measuredExtension, type FileMetadata } from '../core/index.js';
import type { Storage } from './storage.interface.js';

export interface MeasuredUploadOptions {
  /** Cut the upload off with FileTooLargeError past this many bytes. */
  maxSize?: number;
  /** Cut the upload off with ImageTooLargeError once the head declares more pixels. */
  maxPixels?: number;
  contentType?: string;
  /** The filename kept in the metadata. */
  filename: string | null;
}

/**
 * Streams `body` into `storage` under `id`, measuring it on the way (size, SHA-256, type and
 * dimensions from the bytes, and the structure of an image to its end), and returns what was
 * measured. The file is never held whole; one the probe refuses is not stored.
 */
export async function uploadMeasured(
  storage: Storage,
  id: string,
  body: Readable | Buffer,
  options: MeasuredUploadOptions,
): Promise<FileMetadata> {
  const probe = new MetadataProbe({ maxSize: options.maxSize, maxPixels: options.maxPixels });
  const source = Buffer.isBuffer(body) ? Readable.from([body]) : body;
  // The storage may await before it reads the probe: until its pipeline listens, an error
  // (a cut connection, a parse error) must still land somewhere. The pipeline then sees the
  // probe already failed, and the upload rejects with that error.
  source.on('error', (error) => probe.destroy(error));
  probe.on('error', () => undefined);
  await storage.upload(id, source.pipe(probe), { contentType: options.contentType });
  return probe.metadata(options.filename);
}

/**
 * Like `uploadMeasured`, for a new file whose id follows its type: reads the head of `body`
 * first (at most HEAD_BYTES), names the file `idFor(<extension of the type the bytes show>)`,
 * then streams the head and the rest under that id.
 */
export async function uploadNamedByType(
  storage: Storage,
  idFor: (extension: string) => string,
  body: Readable | Buffer,
  options: MeasuredUploadOptions,
): Promise<{ id: string; metadata: FileMetadata }> {
  const { head, whole } = Buffer.isBuffer(body)
    ? { head: body.subarray(0, HEAD_BYTES), whole: body }
    : await readHead(body);
  const id = idFor(await measuredExtension(head));
  return { id, metadata: await uploadMeasured(storage, id, whole, options) };
}

/** The first HEAD_BYTES of `source`, and a stream of all of it, the head included. */
async function readHead(source: Readable): Promise<{ head: Buffer; whole: Readable }> {
  // Pulled chunk by chunk, so the source keeps its backpressure and is never read ahead.
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const read: Buffer[] = [];
  let length = 0;
  let ended = false;
  while (length < HEAD_BYTES && !ended) {
    const next = await chunks.next();
    if (next.done) ended = true;
    else {
      const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
      read.push(chunk);
      length += chunk.length;
    }
  }
  async function* all(): AsyncGenerator<Buffer> {
    yield* read;
    while (!ended) {
      const next = await chunks.next();
      if (next.done) return;
      yield Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    }
  }
  const head = Buffer.concat(read, length).subarray(0, HEAD_BYTES);
  return { head, whole: Readable.from(all(), { objectMode: false }) };
}
