export { AttachmentsModule } from './attachments.module.js';
export { ATTACHMENTS_MODULE_OPTIONS } from './attachments.module-definition.js';
export type { AttachmentsModuleExtras } from './attachments.module-definition.js';
export { AttachmentsService } from './attachments.service.js';
export type { AttachOptions, CacheOptions, CachedUpload } from './attachments.service.js';
export { AttachmentsConfig } from './attachments-config.js';
export { ATTACHMENTS_QUEUE } from './constants.js';
export type {
  AttachmentsControllerOptions,
  AttachmentsJobHooks,
  AttachmentsModuleOptions,
  AttachmentsRequest,
  AttachmentsUploadOptions,
  AttachmentsWorkerOptions,
  JobStep,
} from './interfaces/attachments-module-options.interface.js';

export { Attachment, Attachments } from './entity/attachment.decorator.js';
export type {
  AttachmentCallbacks,
  AttachmentDefinition,
  AttachmentListOptions,
  AttachmentOptions,
  DerivativeDefinition,
  DerivativeProcessorRef,
} from './entity/attachment-options.interface.js';
export { chainDerivatives } from './derivatives/chain.js';
export type {
  DerivativeFunction,
  DerivativeInput,
  DerivativeOutput,
  DerivativeProcessor,
} from './derivatives/derivative-processor.interface.js';
export type { LocationContext, LocationFunction, LocationStrategy } from './core/location.js';
export type { FileMetadata, UploadedFile } from './core/uploaded-file.js';
export { isUploadedFile } from './core/uploaded-file.js';
export { signUploadToken, verifyUploadToken } from './core/upload-token.js';
export type { UploadTokenPayload } from './core/upload-token.js';
export { mimeTypeMatches } from './core/validation.js';
export type { FileRules } from './core/validation.js';

export { AttachmentClaim } from './jobs/attachment-claim.entity.js';
export { AttachmentWork } from './jobs/attachment-work.entity.js';
export type { WorkStatus } from './jobs/attachment-work.entity.js';
export { AttachmentWorkService } from './jobs/attachment-work.service.js';
export type { SweepResult } from './jobs/sweep.job.js';
export type { RegenerateOptions } from './jobs/regenerate-derivatives.js';
export type {
  DeletePayload,
  DerivePayload,
  FileRef,
  NotifyPayload,
  PromotePayload,
  WorkPayload,
} from './jobs/work-payload.js';

export { AttachmentSerializer } from './http/attachment-serializer.js';
export type {
  AttachmentState,
  SerializedAttachment,
  SerializedDerivative,
} from './http/attachment-serializer.js';
export { AttachmentErrorFilter, attachmentErrorStatus } from './http/error-status.js';
export type { DirectUploadResponse } from './http/direct-upload.service.js';
export { contentDisposition } from './http/content-disposition.js';

export { AttachmentEvents } from './events/attachment-events.js';
export type * from './events/attachment-event.js';

export * from './errors/index.js';
export * from './storage/index.js';

import { AttachmentClaim } from './jobs/attachment-claim.entity.js';
import { AttachmentWork } from './jobs/attachment-work.entity.js';

/** The library's own tables (outbox and token claims): add them to the DataSource's entities. */
export const attachmentEntities = [AttachmentWork, AttachmentClaim];
