/** Where a file is: a storage's name and the file's id in it. */
export interface FileRef {
  storage: string;
  id: string;
}

/** Facts about a file, read from its bytes (never taken from the client). */
export interface FileMetadata {
  /** Original filename, sanitized; null when none was given. */
  filename: string | null;
  size: number;
  /** Judged from magic bytes; `application/octet-stream` when unknown. */
  mimeType: string;
  /** In pixels, as the image is shown: EXIF orientations that turn it by 90° swap the two. */
  width?: number;
  height?: number;
  /** Hex SHA-256 of the content. */
  sha256?: string;
  /**
   * A tiny blurred stand-in for an image, for a page to paint before the image loads; made at
   * promotion for attachments that ask for one (`placeholder`), absent until then.
   */
  placeholder?: ImagePlaceholder;
}

/** A placeholder as a column holds it. */
export interface ImagePlaceholder {
  /** The encoding: https://evanw.github.io/thumbhash/ or https://blurha.sh. */
  type: 'thumbhash' | 'blurhash';
  /** ThumbHash: its bytes in base64. BlurHash: its base83 text. */
  hash: string;
  /**
   * Size in pixels of the small upright picture the hash was made from: its aspect ratio is
   * the image's. A BlurHash does not carry it; decode one at this size (or a multiple).
   */
  width: number;
  height: number;
}

/** The value an attachment column holds. */
export interface UploadedFile {
  id: string;
  /** Name of the storage (as configured in the module) that holds the file. */
  storage: string;
  metadata: FileMetadata;
  /** Processed versions by name (`thumb`...), added by background jobs as they finish. */
  derivatives?: Record<string, UploadedFile>;
  /** In `@Attachments()` lists: the id of the cached file this stored file was promoted from. */
  source?: string;
}

/** Whether a value has the shape of an UploadedFile (as read from a column). */
export function isUploadedFile(value: unknown): value is UploadedFile {
  if (!value || typeof value !== 'object') return false;
  const v = value as Partial<UploadedFile>;
  return typeof v.id === 'string' && typeof v.storage === 'string' && !!v.metadata;
}

/** Two values name the same stored file (metadata may differ after re-extraction). */
export function sameFile(a: FileRef | null | undefined, b: FileRef | null | undefined): boolean {
  if (!a || !b) return !a && !b;
  return a.id === b.id && a.storage === b.storage;
}

/** The file and its derivatives: everything that goes when the file is replaced or removed. */
export function withDerivatives(file: UploadedFile): { storage: string; id: string }[] {
  const derivatives = Object.values(file.derivatives ?? {}).filter(isUploadedFile);
  return [file, ...derivatives].map(({ storage, id }) => ({ storage, id }));
}

/** The files of an `@Attachments()` column (null and junk read as none). */
export function listOf(value: unknown): UploadedFile[] {
  return Array.isArray(value) ? value.filter(isUploadedFile) : [];
}
