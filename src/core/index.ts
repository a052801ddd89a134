export * from './attachment-event.js';
export { answerWithin } from './answer-within.js';
export { contentDisposition } from './content-disposition.js';
export * from './errors/index.js';
export {
  RESERVED_TEMP_DIR,
  assertSafeFileId,
  fileIdMadeSince,
  fileIdTime,
  isNewFileId,
  newFileId,
} from './file-id.js';
export { safeExtension, sanitizeFilename } from './filename.js';
export { kebabCase, pathSafeRecordId, storedFileId } from './location.js';
export type { LocationContext, LocationFunction, LocationStrategy } from './location.js';
export { HEAD_BYTES, HeadTap } from './head-bytes.js';
export { isMissingPackage } from './missing-package.js';
export { STREAM_BUFFER_BYTES } from './stream-buffer.js';
export { MetadataProbe, describeHead, measuredExtension } from './metadata-probe.js';
export type { ProbeLimits } from './metadata-probe.js';
export { signFileUrl, verifyFileUrl } from './signed-file-url.js';
export {
  signDerivativeUrl,
  verifyDerivativeUrl,
  type DerivativeUrlGrant,
} from './signed-derivative-url.js';
export {
  looksLikeSignedFileId,
  ownerDigest,
  readSignedFileId,
  signFileId,
  verifySignedFileId,
} from './signed-file-id.js';
export type { SignedIdClaim } from './signed-file-id.js';
export {
  measuredFactsOf,
  signUploadToken,
  verifyCacheUploadToken,
  verifyUploadToken,
} from './upload-token.js';
export type { MeasuredFacts, UploadTokenPayload } from './upload-token.js';
export { isUploadedFile, listOf, sameFile, withDerivatives } from './uploaded-file.js';
export type { FileMetadata, FileRef, ImagePlaceholder, UploadedFile } from './uploaded-file.js';
export { DIMENSION_RULES, checkPixels, mimeTypeMatches, validateFile } from './validation.js';
export type { FileRules } from './validation.js';
export type * from './work-payload.js';
export { ImageStructure } from './image-structure.js';
