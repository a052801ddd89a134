import type { FileRef, UploadedFile } from './uploaded-file.js';

/** Why files were deleted. */
export type DeleteReason = 'replaced' | 'removed' | 'promoted' | 'superseded';

/** Which record and attachment an event is about. */
export interface AttachmentEventTarget {
  /** Entity name, as TypeORM knows it. */
  entity: string;
  /** Primary key values of the record. */
  recordId: Record<string, unknown>;
  attachment: string;
}

/**
 * Events of background work are delivered at least once: a crash can repeat one, never lose
 * it. Every delivery of the same event carries the same `id`, for listeners to de-duplicate on.
 */
export interface DeliveredAtLeastOnce {
  id: string;
}

/** A file was streamed into the cache and measured (`cache()`, the upload endpoint). */
export interface CachedEvent {
  type: 'cached';
  file: UploadedFile;
}

/** A save that attached a cached file committed; its promotion is recorded and being queued. */
export interface AttachedEvent extends AttachmentEventTarget {
  type: 'attached';
  file: UploadedFile;
}

/** The record now points at the stored file. */
export interface PromotedEvent extends AttachmentEventTarget, DeliveredAtLeastOnce {
  type: 'promoted';
  file: UploadedFile;
  cached: UploadedFile;
}

/**
 * No file of an `@Attachments()` list waits for promotion any more: each one was stored, or
 * failed for good (those are still cached in `files`), after elements were promoted, removed
 * or failed.
 */
export interface ListPromotedEvent extends AttachmentEventTarget, DeliveredAtLeastOnce {
  type: 'listPromoted';
  files: UploadedFile[];
}

/** A derivative was made and merged into the record. */
export interface DerivativeEvent extends AttachmentEventTarget, DeliveredAtLeastOnce {
  type: 'derivative';
  name: string;
  file: UploadedFile;
  original: UploadedFile;
}

/** Files were deleted: replaced, removed, a promoted file's cached copy, or a superseded version. */
export interface DeletedEvent extends DeliveredAtLeastOnce {
  type: 'deleted';
  entity: string | null;
  recordId: Record<string, unknown> | null;
  reason: DeleteReason;
  files: FileRef[];
}

/** A job failed for good; its work is marked failed and can be retried. */
export interface FailedEvent extends DeliveredAtLeastOnce {
  type: 'failed';
  job: string;
  workId: string;
  entity: string | null;
  recordId: Record<string, unknown> | null;
  attachment: string | null;
  attempts: number;
  /** The last error, as it was recorded (message and stack). */
  error: Error;
}

/** A failure as the outbox keeps it until it is delivered: the error as its recorded text. */
export type RecordedFailure = Omit<FailedEvent, 'error'> & { error: string };

/** The events an outbox row carries to their listeners, so that none is lost in a crash. */
export type DurableEvent = PromotedEvent | ListPromotedEvent | DerivativeEvent | RecordedFailure;

/** Every event of `AttachmentEvents.events$`; `type` tells which. */
export type AttachmentEvent =
  | CachedEvent
  | AttachedEvent
  | PromotedEvent
  | ListPromotedEvent
  | DerivativeEvent
  | DeletedEvent
  | FailedEvent;
