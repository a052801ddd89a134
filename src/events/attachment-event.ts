import type { UploadedFile } from '../core/uploaded-file.js';
import type { DeleteReason, FileRef } from '../jobs/work-payload.js';

/** Which record and attachment an event is about. */
export interface AttachmentEventTarget {
  /** Entity name, as TypeORM knows it. */
  entity: string;
  /** Primary key values of the record. */
  recordId: Record<string, unknown>;
  attachment: string;
}

/** A file was streamed into the cache and measured (`cache()`, the upload endpoint). */
export interface CachedEvent {
  type: 'cached';
  file: UploadedFile;
}

/** A save that attached a cached file committed; its promotion is queued. */
export interface AttachedEvent extends AttachmentEventTarget {
  type: 'attached';
  file: UploadedFile;
}

/** The record now points at the stored file. */
export interface PromotedEvent extends AttachmentEventTarget {
  type: 'promoted';
  file: UploadedFile;
  cached: UploadedFile;
}

/** The last cached file of an `@Attachments()` list was promoted: every file is stored. */
export interface ListPromotedEvent extends AttachmentEventTarget {
  type: 'listPromoted';
  files: UploadedFile[];
}

/** A derivative was made and merged into the record. */
export interface DerivativeEvent extends AttachmentEventTarget {
  type: 'derivative';
  name: string;
  file: UploadedFile;
  original: UploadedFile;
}

/** Files were deleted: replaced, removed, a promoted file's cached copy, or a superseded version. */
export interface DeletedEvent {
  type: 'deleted';
  entity: string | null;
  recordId: Record<string, unknown> | null;
  reason: DeleteReason;
  files: FileRef[];
}

/** A job failed for good; its work is marked failed and can be retried. */
export interface FailedEvent {
  type: 'failed';
  job: string;
  workId: string;
  entity: string | null;
  recordId: Record<string, unknown> | null;
  attachment: string | null;
  attempts: number;
  error: unknown;
}

export type AttachmentEvent =
  | CachedEvent
  | AttachedEvent
  | PromotedEvent
  | ListPromotedEvent
  | DerivativeEvent
  | DeletedEvent
  | FailedEvent;
