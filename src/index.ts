/**
 * nestjs-attachments: asynchronous file attachments for TypeORM entities in NestJS. This entry
 * point holds what an app uses; storage authors find the rest under `nestjs-attachments/storage`
 * and `nestjs-attachments/testing`, S3 under `nestjs-attachments/s3`, image processors under
 * `nestjs-attachments/image`, and the browser client under `nestjs-attachments/client`.
 */
import { AttachmentWork } from './outbox/index.js';
import { AttachmentClaim } from './persistence/index.js';

export { AttachmentsModule } from './attachments.module.js';
export {
  ATTACHMENTS_QUEUE,
  type AttachmentsControllerOptions,
  type AttachmentsJobHooks,
  type AttachmentsModuleOptions,
  type AttachmentsTusOptions,
  type AttachmentsUploadOptions,
  type AttachmentsWorkerOptions,
  type JobStep,
  type JobStepData,
} from './config/index.js';

export {
  Attachment,
  Attachments,
  type AttachmentCallbacks,
  type AttachmentListOptions,
  type AttachmentOptions,
} from './persistence/index.js';

export {
  AttachmentSerializer,
  AttachmentsService,
  type AttachmentState,
  type AttachOptions,
  type CachedUpload,
  type CacheOptions,
  type SerializedAttachment,
} from './attaching/index.js';
export {
  AttachmentsHealth,
  AttachmentWorkService,
  type AttachmentsHealthReport,
  type RegenerateOptions,
  type SweepResult,
} from './work/index.js';
export { AttachmentEvents } from './events/index.js';
export { AttachmentErrorFilter, attachmentErrorStatus, type UploadResponse } from './http/index.js';

export {
  chainDerivatives,
  type DerivativeFunction,
  type DerivativeInput,
  type DerivativeOutput,
  type DerivativeProcessor,
} from './derivatives/index.js';

export { FileSystemStorage, MemoryStorage, type Storage } from './storage/index.js';

export {
  isUploadedFile,
  type AttachmentEvent,
  type FileMetadata,
  type FileRef,
  type ImagePlaceholder,
  type LocationStrategy,
  type UploadedFile,
  AttachmentConfigurationError,
  AttachmentError,
  EmptyFileError,
  ExpiredTokenError,
  FileNotFoundError,
  FileTooLargeError,
  FileTypeNotAllowedError,
  ImageDimensionsError,
  ImageTooLargeError,
  InvalidFileIdError,
  InvalidFileUrlError,
  InvalidTokenError,
  InvalidUploadError,
  MalformedImageError,
  TokenAlreadyUsedError,
  TokenOwnerMismatchError,
  TooManyFilesError,
  UploadTimeoutError,
} from './core/index.js';

export { AttachmentWork };

/** The library's own tables (outbox and token claims): add them to the DataSource's entities. */
export const attachmentEntities = [AttachmentWork, AttachmentClaim];
