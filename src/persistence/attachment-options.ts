import type { ColumnType } from 'typeorm';
import type { ImagePlaceholder, LocationStrategy, UploadedFile } from '../core/index.js';
import type { DerivativeDeclarations, DerivativeProcessorRef } from '../derivatives/index.js';

/**
 * Called in the worker process, at least once, with the record as it is now (null if it is
 * gone). `E` is the entity class, as in `@Attachment<Photo>({ afterUpload: ... })`.
 */
export interface AttachmentCallbacks<E extends object = object> {
  /** The file is stored and the record points at it. */
  afterUpload?(context: { entity: E | null; attachment: string; file: UploadedFile }): unknown;
  /**
   * Lists only: no file of the list waits for promotion any more (each was stored, removed or
   * failed for good; a failed one is still cached in `files`).
   */
  afterAllUploads?(context: {
    entity: E | null;
    attachment: string;
    files: UploadedFile[];
  }): unknown;
  /** A job of this attachment failed for good (promotion or a derivative). */
  onError?(context: { entity: E | null; attachment: string; error: Error; job: string }): unknown;
}

/** What `@Attachment()` takes: where the file goes, what it may be, and what is made of it. */
export interface AttachmentOptions<E extends object = object> extends AttachmentCallbacks<E> {
  /** Storage the file is promoted to. Default: the module's `storeStorage` (`store`). */
  storage?: string;
  /**
   * Largest accepted file, in bytes, measured on the stored bytes. Uploads for an attachment
   * without one are held to the module's `upload.maxSize` (100 MiB).
   */
  maxSize?: number;
  /** Accepted MIME types (judged from the bytes), with `type/*` wildcards. */
  allowedTypes?: readonly string[];
  /** Accept files of 0 bytes. Default false: an empty file is refused (EmptyFileError). */
  allowEmpty?: boolean;
  /**
   * Most pixels (width × height, as an image's header declares them); a larger image is
   * refused before it is stored (ImageTooLargeError). Default the module's `upload.maxPixels`.
   */
  maxPixels?: number;
  /**
   * Bounds of an image's width and height in pixels, both included, as the image is shown
   * (after its EXIF orientation), checked at upload and at attach (ImageDimensionsError). An
   * image whose dimensions cannot be read is refused; files that are not images pass.
   */
  minWidth?: number;
  maxWidth?: number;
  minHeight?: number;
  maxHeight?: number;
  /**
   * Computes a ThumbHash or BlurHash of an image at promotion, kept in `metadata.placeholder`.
   * Needs `sharp` and the `thumbhash` or `blurhash` package.
   */
  placeholder?: ImagePlaceholder['type'];
  /** Where the promoted file goes. Default `record`: `<entity>/<id>/<attachment>/<file>`. */
  location?: LocationStrategy;
  /**
   * Column type. Default: the database's JSON type, chosen as the DataSource initializes
   * (`jsonb` on PostgreSQL and SQLite, `json` on MySQL and MariaDB).
   */
  columnType?: ColumnType;
  /** Column name, when it differs from the property name. */
  columnName?: string;
  /** Processed versions (thumbnails...) by name, made in the background after promotion. */
  derivatives?: DerivativeDeclarations;
  /** Replaces the original by its processed version when it is promoted (e.g. resize to 2000 px). */
  preprocess?: DerivativeProcessorRef;
}

/**
 * What `@Attachments()` takes: the options of a single attachment, which apply to each file of
 * the list (its derivatives and preprocessing included), plus a count.
 */
export interface AttachmentListOptions<E extends object = object> extends AttachmentOptions<E> {
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
