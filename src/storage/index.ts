export type * from './storage.interface.js';
export {
  acceptsDirectUploads,
  MAX_PARTS,
  type DirectUploadStorage,
  type PresignedUpload,
  type PresignUploadOptions,
  type UploadedPart,
} from './direct-upload-storage.js';
export { assertSafeFileId, RESERVED_TEMP_DIR } from '../core/index.js';
export { resolveByteRange } from './byte-range.js';
export { byteLimit, refuseOversizedBuffer } from './byte-limit.js';
export { encodeIdPath } from './id-path.js';
export { streamCopy } from './stream-copy.js';
export { checkStoredStructure, inspectStoredFile } from './inspect-stored-file.js';
export { uploadMeasured, uploadNamedByType } from './measured-upload.js';
export { cacheOverlap } from './storage-overlap.js';
export { MemoryStorage } from './memory.storage.js';
export { FileSystemStorage, type FileSystemStorageOptions } from './file-system.storage.js';
