import { InvalidFileIdError } from './errors/index.js';
import { uuidV7, uuidV7Time } from './uuid-v7.js';

/** Folder of the file-system storage that holds uploads in progress; never a valid id. */
export const RESERVED_TEMP_DIR = '.uploading';

const MAX_ID_LENGTH = 1024;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARS = /[\x00-\x1f\x7f]/;
const DRIVE_PREFIX = /^[A-Za-z]:/;

/**
 * Throws InvalidFileIdError unless `id` is a relative, slash-separated key that cannot escape a
 * storage root on any platform. Checked by every storage before the id touches a path or a URL.
 */
export function assertSafeFileId(id: string): void {
  const fail = (reason: string): never => {
    throw new InvalidFileIdError(id, reason);
  };
  if (typeof id !== 'string' || id.length === 0) fail('it is empty');
  if (id.length > MAX_ID_LENGTH) fail(`it is longer than ${MAX_ID_LENGTH} characters`);
  if (CONTROL_CHARS.test(id)) fail('it contains NUL or another control character');
  // Backslash is a separator on Windows, so it could smuggle in `..\` segments.
  if (id.includes('\\')) fail('it contains a backslash');
  if (id.startsWith('/')) fail('it is absolute (starts with "/")');
  if (DRIVE_PREFIX.test(id)) fail('it starts with a Windows drive prefix');
  const segments = id.split('/');
  for (const segment of segments) {
    if (segment === '') fail('it has an empty segment ("//" or a trailing "/")');
    if (segment === '.' || segment === '..') fail(`it has a "${segment}" segment`);
  }
  if (segments[0] === RESERVED_TEMP_DIR) fail(`"${RESERVED_TEMP_DIR}" is reserved`);
}

/**
 * A new id for an uploaded file: unique, ending in `extension` (with its dot) when it is a short
 * alphanumeric one, so the cache and the store show what a file is. Give the extension of the
 * type measured on the bytes where the server has them: the files endpoint picks the served
 * type by the id's extension, so a client's `invoice.html` must not decide it.
 *
 * The UUID is a version 7 one, carrying `createdAt` (now, unless a test or a bench says when):
 * the cache sweep reads it to pass over files too young to expire without a stat each. The time
 * reveals nothing new: a file's Last-Modified, which the files endpoint and S3 send, already
 * shows when it was uploaded (to the second, where the id has the millisecond).
 */
export function newFileId(extension: string, createdAt = Date.now()): string {
  const suffix = extension.toLowerCase();
  return `${uuidV7(createdAt)}${/^\.[a-z0-9]{1,10}$/.test(suffix) ? suffix : ''}`;
}

/**
 * The shape of the ids `newFileId` hands out: a UUID and a short extension. Any version: ids of
 * version 4, from before ids carried their time, are still ours.
 */
const NEW_FILE_ID =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(\.[a-z0-9]{1,10})?$/;

/** Whether `id` could have come from `newFileId`: anything else was not handed out by us. */
export function isNewFileId(id: unknown): id is string {
  return typeof id === 'string' && NEW_FILE_ID.test(id);
}

/**
 * When the file named `id` (its last segment) was given its name, in Unix milliseconds, if that
 * name is one `newFileId` made with a version 7 UUID; else undefined (a version 4 id of an
 * earlier release, or a name of the app's own).
 */
export function fileIdTime(id: string): number | undefined {
  const basename = id.slice(id.lastIndexOf('/') + 1);
  return isNewFileId(basename) ? uuidV7Time(basename) : undefined;
}

/** A `newFileId` name of version 7 (hyphens and lowercase hex, so it sorts by its time). */
const V7_FILE_ID =
  /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}(\.[a-z0-9]{1,10})?$/;

/**
 * A test of whether a basename is a version 7 `newFileId` name made at or after `time`: what
 * `fileIdTime(name) >= time` says, for a listing of millions of names. The time is the first
 * 12 hex digits, so it compares as a string without being parsed.
 */
export function fileIdMadeSince(time: number): (basename: string) => boolean {
  const hex = Math.max(0, Math.ceil(time)).toString(16).padStart(12, '0');
  if (hex.length > 12) return () => false;
  const earliest = `${hex.slice(0, 8)}-${hex.slice(8)}`;
  return (basename) => basename >= earliest && V7_FILE_ID.test(basename);
}
