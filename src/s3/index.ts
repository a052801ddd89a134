export { S3Storage } from './s3.storage.js';
export type { ChecksumSetting, S3StorageOptions } from './options.js';
