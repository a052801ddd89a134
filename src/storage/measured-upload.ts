import { finished, Readable } from 'node:stream';
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
  return store(storage, id, measure(body, options), options);
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
  const { head, probe } = Buffer.isBuffer(body)
    ? { head: body.subarray(0, HEAD_BYTES), probe: measure(body, options) }
    : await readHead(body, (whole) => measure(whole, options));
  const id = idFor(await measuredExtension(head));
  return { id, metadata: await store(storage, id, probe, options) };
}

/** `body` flowing through a probe, whose errors, the source's included, stay on the probe. */
function measure(body: Readable | Buffer, options: MeasuredUploadOptions): MetadataProbe {
  const probe = new MetadataProbe({ maxSize: options.maxSize, maxPixels: options.maxPixels });
  const source = Buffer.isBuffer(body) ? Readable.from([body], { objectMode: false }) : body;
  // The storage may await before it reads the probe: until its pipeline listens, an error
  // (a cut connection, a parse error) must still land somewhere. The pipeline then sees the
  // probe already failed, and the upload rejects with that error. A source closed before
  // its end fails the probe too, rather than leave it waiting for bytes that never come.
  finished(source, (error) => error && probe.destroy(error));
  probe.on('error', () => undefined);
  source.pipe(probe);
  return probe;
}

async function store(
  storage: Storage,
  id: string,
  probe: MetadataProbe,
  options: MeasuredUploadOptions,
): Promise<FileMetadata> {
  await storage.upload(id, probe, { contentType: options.contentType });
  return probe.metadata(options.filename);
}

/**
 * Reads the first HEAD_BYTES of `source` (all of it when shorter) and hands `then` a stream of
 * the whole: the source itself, the bytes read put back in front of its own buffer, so no
 * stream stands in between and the rest is not copied. `then` runs as soon as the head is in,
 * before the source can fail with nobody listening. Nothing reads past the head before it.
 */
function readHead(
  source: Readable,
  then: (whole: Readable) => MetadataProbe,
): Promise<{ head: Buffer; probe: MetadataProbe }> {
  return new Promise((resolve, reject) => {
    const read: Buffer[] = [];
    let length = 0;
    function take() {
      try {
        let chunk: unknown;
        while (length < HEAD_BYTES && (chunk = source.read()) !== null) {
          const bytes = asBuffer(chunk);
          read.push(bytes);
          length += bytes.length;
        }
      } catch (error) {
        stop();
        return reject(error);
      }
      if (length < HEAD_BYTES) return;
      stop();
      const bytes = read.length === 1 ? read[0]! : Buffer.concat(read, length);
      // At once: once the source has emitted 'end', nothing can be put back.
      source.unshift(bytes);
      resolve({ head: bytes.subarray(0, HEAD_BYTES), probe: then(source) });
    }
    // Also settles a source that had ended, failed or closed before this was called.
    const unwatch = finished(source, { writable: false }, (error) => {
      stop();
      if (error) return reject(error);
      const bytes = Buffer.concat(read, length);
      resolve({ head: bytes, probe: then(Readable.from([bytes], { objectMode: false })) });
    });
    function stop() {
      source.off('readable', take);
      unwatch();
    }
    source.on('readable', take);
  });
}

/** A chunk of a source in object mode or with an encoding, as bytes. */
function asBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk);
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
  throw new TypeError(`A file stream must yield bytes or text, not ${typeof chunk}`);
}
