export { AttachmentSerializer } from './attachment-serializer.js';
export type {
  AttachmentState,
  SerializedAttachment,
  SerializedDerivative,
} from './attachment-serializer.js';
export { AttachmentsService } from './attachments.service.js';
export type { AttachOptions, CacheOptions, CachedUpload } from './attachments.service.js';
export { CachedFileChecks } from './cached-file-checks.js';
export { FileUrls, type FileUrlOptions } from './file-urls.js';
export { OnDemandDerivatives } from './on-demand-derivatives.js';
export { DerivativeBusyError, DerivativeNotFoundError } from './on-demand-errors.js';
export { OnDemandOutput } from './on-demand-output.js';
export { claimedDerivativeGrant, DERIVATIVES_ROUTE } from './on-demand-url.js';
export { cacheIdOfKey, checkClaimOwner, signCacheId } from './upload-claims.js';
