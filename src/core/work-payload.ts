import type { FileRef, UploadedFile } from './uploaded-file.js';
import type { DeleteReason, DurableEvent } from './attachment-event.js';

/** Everything a promotion needs, so a job can be understood and replayed from its data alone. */
export interface PromotePayload {
  kind: 'promote';
  entity: string;
  recordId: Record<string, unknown>;
  attachment: string;
  /** The cached file the record held when the work was recorded. */
  file: UploadedFile;
  /** Where the file goes: deterministic, so a retried promotion overwrites its own copy. */
  target: FileRef;
  /** The file is one element of an `@Attachments()` list. */
  inList?: boolean;
}

/** Makes one named derivative of a stored original, in a job of its own. */
export interface DerivePayload {
  kind: 'derive';
  entity: string;
  recordId: Record<string, unknown>;
  attachment: string;
  /** The stored original the derivative is made from; the job ends if the record moved on. */
  original: UploadedFile;
  name: string;
  /** Storage and id without extension; the processor's output decides the extension. */
  target: { storage: string; stem: string };
  /** The original is one element of an `@Attachments()` list. */
  inList?: true;
}

export interface DeletePayload {
  kind: 'delete';
  reason: DeleteReason;
  files: FileRef[];
  /**
   * Folders (key prefixes ending in `/`) deleted with everything in them: the derivatives of a
   * deleted original, including any that a failed job stored but never wrote into the column.
   */
  folders?: FileRef[];
}

/** Delivers one event (and its callbacks) at least once, with the id it will always carry. */
export interface NotifyPayload {
  kind: 'notify';
  event: DurableEvent;
}

/**
 * The W3C trace context that was active when the work was recorded, so that its job continues
 * that trace whenever and wherever it runs.
 */
export interface TraceCarrier {
  traceparent: string;
  tracestate?: string;
}

export type WorkPayload = (PromotePayload | DeletePayload | DerivePayload | NotifyPayload) & {
  /** Absent when no trace was active (or OpenTelemetry is not installed). */
  trace?: TraceCarrier;
};

/** What a BullMQ job carries: the outbox row id plus the full payload. */
export type WorkJobData = WorkPayload & { workId: string };

export type PromoteJobData = PromotePayload & { workId: string };
export type DeriveJobData = DerivePayload & { workId: string };
export type DeleteJobData = DeletePayload & { workId: string };
export type NotifyJobData = NotifyPayload & { workId: string };

/** The cache sweep, a scheduled job with no outbox row. */
export interface SweepJobData {
  kind: 'sweep';
}
