import { Readable } from 'node:stream';
import { MetadataProbe, type FileMetadata } from '../core/index.js';
import type { Storage } from './storage.interface.js';

export interface MeasuredUploadOptions {
  /** Cut the upload off with FileTooLargeError past this many bytes. */
  maxSize?: number;
  contentType?: string;
  /** The filename kept in the metadata. */
  filename: string | null;
}

/**
 * Streams `body` into `storage` under `id`, measuring it on the way (size, SHA-256, type and
 * dimensions from the bytes), and returns what was measured. The file is never held whole.
 */
export async function uploadMeasured(
  storage: Storage,
  id: string,
  body: Readable | Buffer,
  options: MeasuredUploadOptions,
): Promise<FileMetadata> {
  const probe = new MetadataProbe(options.maxSize);
  const source = Buffer.isBuffer(body) ? Readable.from([body]) : body;
  // The storage may await before it reads the probe: until its pipeline listens, an error
  // (a cut connection, a parse error) must still land somewhere. The pipeline then sees the
  // probe already failed, and the upload rejects with that error.
  source.on('error', (error) => probe.destroy(error));
  probe.on('error', () => undefined);
  await storage.upload(id, source.pipe(probe), { contentType: options.contentType });
  return probe.metadata(options.filename);
}
