export { AttachmentsModule } from './attachments.module.js';
export { ATTACHMENTS_MODULE_OPTIONS } from './config/attachments.module-definition.js';
export type { AttachmentsModuleExtras } from './config/attachments.module-definition.js';
export { AttachmentsService } from './attaching/attachments.service.js';
export type { AttachOptions, CacheOptions, CachedUpload } from './attaching/attachments.service.js';
export { AttachmentsConfig } from './config/attachments-config.js';
export { ATTACHMENTS_QUEUE } from './config/constants.js';
export type {
  AttachmentsControllerOptions,
  AttachmentsJobHooks,
  AttachmentsModuleOptions,
  AttachmentsRequest,
  AttachmentsUploadOptions,
  AttachmentsWorkerOptions,
  JobStep,
} from './config/attachments-module-options.js';

export { Attachment, Attachments } from './persistence/attachment.decorator.js';
export type {
  AttachmentCallbacks,
  AttachmentDefinition,
  AttachmentListOptions,
  AttachmentOptions,
  DerivativeDefinition,
  DerivativeProcessorRef,
} from './persistence/attachment-options.js';
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

export { AttachmentClaim } from './persistence/attachment-claim.entity.js';
export { AttachmentWork } from './outbox/attachment-work.entity.js';
export type { WorkStatus } from './outbox/attachment-work.entity.js';
export { AttachmentWorkService } from './work/attachment-work.service.js';
export type { SweepResult } from './work/handlers/sweep.handler.js';
export type { RegenerateOptions } from './work/regenerate-derivatives.js';
export type {
  DeletePayload,
  DerivePayload,
  FileRef,
  NotifyPayload,
  PromotePayload,
  WorkPayload,
} from './core/work-payload.js';

export { AttachmentSerializer } from './attaching/attachment-serializer.js';
export type {
  AttachmentState,
  SerializedAttachment,
  SerializedDerivative,
} from './attaching/attachment-serializer.js';
export { AttachmentErrorFilter, attachmentErrorStatus } from './http/error-filter.js';
export type { DirectUploadResponse } from './http/app-uploads.service.js';
export { contentDisposition } from './core/content-disposition.js';

export { AttachmentEvents } from './events/attachment-events.js';
export type * from './core/attachment-event.js';

export * from './core/errors/index.js';
export * from './storage/index.js';

import { AttachmentClaim } from './persistence/attachment-claim.entity.js';
import { AttachmentWork } from './outbox/attachment-work.entity.js';

/** The library's own tables (outbox and token claims): add them to the DataSource's entities. */
export const attachmentEntities = [AttachmentWork, AttachmentClaim];
