export * from './storage.interface.js';
export { assertSafeFileId, RESERVED_TEMP_DIR } from '../core/file-id.js';
export { resolveByteRange } from './byte-range.js';
export { MemoryStorage } from './memory.storage.js';
export { FileSystemStorage, type FileSystemStorageOptions } from './file-system.storage.js';
export { S3Storage, type S3StorageOptions, type ChecksumSetting } from '../s3/s3.storage.js';
