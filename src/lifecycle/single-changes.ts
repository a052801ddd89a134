import { sameFile, type UploadedFile } from '../core/index.js';

export interface SingleChange {
  /** What the column will hold. */
  value: UploadedFile | null;
  /** The app changed the attachment: the row's file goes, `value` (if cached) is promoted. */
  changed: boolean;
}

export interface SingleContext {
  /** The ids the object held when it was loaded or last saved; undefined if unknown. */
  loaded: readonly string[] | undefined;
  isFresh: (file: UploadedFile) => boolean;
  cacheStorage: string;
}

/**
 * What saving an object's single attachment means, against the row as it is under lock. Only
 * two values are changes the app made: a cached file that `attach()` just handed out, and null
 * set after the object held a file (or with nothing known of what it held). Anything else that
 * differs from the row (a cached file long promoted, a stored file long replaced, null from
 * before another save attached a file) is an old copy of the row, and the row wins.
 */
export function resolveSingle(
  next: UploadedFile | null,
  row: UploadedFile | null,
  context: SingleContext,
): SingleChange {
  if (sameFile(next, row)) return { value: row, changed: false };
  if (next && next.storage === context.cacheStorage && context.isFresh(next)) {
    return { value: next, changed: true };
  }
  if (!next && (!context.loaded || context.loaded.length > 0)) {
    return { value: null, changed: true };
  }
  return { value: row, changed: false };
}
