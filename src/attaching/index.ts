export { AttachmentSerializer } from './attachment-serializer.js';
export type {
  AttachmentState,
  SerializedAttachment,
  SerializedDerivative,
} from './attachment-serializer.js';
export { AttachmentsService } from './attachments.service.js';
export type { AttachOptions, CacheOptions, CachedUpload } from './attachments.service.js';
export { CachedFileChecks } from './cached-file-checks.js';
export { FileUrls } from './file-urls.js';
export { cacheIdOfKey, checkClaimOwner, signCacheId } from './upload-claims.js';
