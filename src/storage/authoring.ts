/**
 * `nestjs-attachments/storage`: what a storage author needs to implement `Storage` (and
 * `DirectUploadStorage`, for uploads straight from the browser), with the helpers the built-in
 * storages use for byte ranges and ids. Run the shared contract from `nestjs-attachments/testing`.
 */
export { assertSafeFileId } from '../core/index.js';
export type * from './storage.interface.js';
export {
  acceptsDirectUploads,
  type DirectUploadStorage,
  type PresignedUpload,
  type PresignUploadOptions,
  type UploadedPart,
} from './direct-upload-storage.js';
export { resolveByteRange } from './byte-range.js';
export { FileSystemStorage, type FileSystemStorageOptions } from './file-system.storage.js';
export { MemoryStorage } from './memory.storage.js';
