export type { UploadResponse } from './app-upload.service.js';
export type { DirectUploadParams, MultipartUploadCompletion } from './direct-upload.service.js';
export { AttachmentErrorFilter, attachmentErrorStatus } from './error-filter.js';
export { HTTP_PROVIDERS, controllersFor } from './providers.js';
