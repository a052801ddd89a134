import type { Type } from '@nestjs/common';
import type { ColumnType } from 'typeorm';
import type { LocationStrategy } from '../core/location.js';
import type { UploadedFile } from '../core/uploaded-file.js';
import type {
  DerivativeFunction,
  DerivativeProcessor,
} from '../derivatives/derivative-processor.interface.js';

/** A function, or an injectable class resolved from the app's providers (or built with DI). */
export type DerivativeProcessorRef = DerivativeFunction | Type<DerivativeProcessor>;

export interface DerivativeDefinition {
  processor: DerivativeProcessorRef;
  /**
   * Made inside the promotion job, so the record never points at a stored file without it.
   * Default false: each derivative is a job of its own, after promotion.
   */
  duringPromotion?: boolean;
}

/** Called in the worker process, with the record as it is now (null if it is gone). */
export interface AttachmentCallbacks {
  /** The file is stored and the record points at it. */
  afterUpload?: (context: {
    entity: object | null;
    attachment: string;
    file: UploadedFile;
  }) => unknown;
  /** Lists only: every file of the list is stored, after the last of a save's promotions. */
  afterAllUploads?: (context: {
    entity: object | null;
    attachment: string;
    files: UploadedFile[];
  }) => unknown;
  /** A job of this attachment failed for good (promotion or a derivative). */
  onError?: (context: {
    entity: object | null;
    attachment: string;
    error: unknown;
    job: string;
  }) => unknown;
}

export interface AttachmentOptions extends AttachmentCallbacks {
  /** Storage the file is promoted to. Default: the module's `storeStorage` (`store`). */
  storage?: string;
  /** Largest accepted file, in bytes, measured on the stored bytes. */
  maxSize?: number;
  /** Accepted MIME types (judged from the bytes), with `type/*` wildcards. */
  allowedTypes?: readonly string[];
  /** Where the promoted file goes. Default `record`: `<entity>/<id>/<attachment>/<file>`. */
  location?: LocationStrategy;
  /** Column type. Default `jsonb` (PostgreSQL, and SQLite in TypeORM 1.x). */
  columnType?: ColumnType;
  /** Column name, when it differs from the property name. */
  columnName?: string;
  /** Processed versions (thumbnails...) by name, made in the background after promotion. */
  derivatives?: Record<string, DerivativeProcessorRef | DerivativeDefinition>;
  /** Replaces the original by its processed version when it is promoted (e.g. resize to 2000 px). */
  preprocess?: DerivativeProcessorRef;
}

export interface AttachmentListOptions extends Omit<
  AttachmentOptions,
  'derivatives' | 'preprocess'
> {
  /** Most files the list may hold; `attachMany()` refuses more. */
  maxCount?: number;
}

/** An `@Attachment()` or `@Attachments()` property as the library sees it. */
export interface AttachmentDefinition {
  property: string;
  options: AttachmentOptions & { maxCount?: number };
  /** An ordered list of files (`@Attachments()`) rather than one. */
  multiple?: boolean;
}
