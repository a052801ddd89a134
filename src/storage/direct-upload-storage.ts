import type { Storage } from './storage.interface.js';

/**
 * Parts a multipart upload may have, numbered from 1. S3 sets the limit; a storage that takes
 * parts follows it, so the routes can refuse a part number before asking the storage.
 */
export const MAX_PARTS = 10_000;

/** A request the browser sends to the storage itself, as a Companion-style route answers it. */
export interface PresignedUpload {
  method: 'PUT' | 'POST';
  url: string;
  /** Form fields to send before the file (POST). */
  fields: Record<string, string>;
  /** Headers the request must carry (PUT). */
  headers: Record<string, string>;
}

export interface PresignUploadOptions {
  method: 'PUT' | 'POST';
  /** Seconds the request stays valid. */
  expiresIn: number;
  /** Signed into a POST policy (`content-length-range`); re-checked at attach either way. */
  maxSize?: number;
  contentType?: string;
}

export interface UploadedPart {
  PartNumber: number;
  ETag: string;
  Size?: number;
}

/**
 * Storages a browser can upload to directly, in one request or in parts (S3's multipart API),
 * without the bytes passing through the app. What a client sends this way is never trusted:
 * attaching re-reads the stored object's size and type.
 */
export interface DirectUploadStorage {
  /**
   * What the object key of a direct upload has before the file's id (S3's key prefix), empty or
   * ending in `/`. Clients such as Uppy report that whole key; the app maps it back to the id.
   */
  readonly prefix?: string;
  presignUpload(id: string, options: PresignUploadOptions): Promise<PresignedUpload>;
  createMultipartUpload(id: string, options: { contentType?: string }): Promise<string>;
  presignUploadPart(
    id: string,
    uploadId: string,
    partNumber: number,
    expiresIn: number,
  ): Promise<string>;
  listUploadedParts(id: string, uploadId: string): Promise<UploadedPart[]>;
  completeMultipartUpload(id: string, uploadId: string, parts: UploadedPart[]): Promise<void>;
  abortMultipartUpload(id: string, uploadId: string): Promise<void>;
}

export function acceptsDirectUploads(storage: Storage): storage is Storage & DirectUploadStorage {
  const candidate = storage as Partial<DirectUploadStorage>;
  return (
    typeof candidate.presignUpload === 'function' &&
    typeof candidate.createMultipartUpload === 'function'
  );
}
