import { isUploadedFile, sameFile, type UploadedFile } from '../core/uploaded-file.js';

/** The files of an `@Attachments()` column (null and junk read as none). */
export function listOf(value: unknown): UploadedFile[] {
  return Array.isArray(value) ? value.filter(isUploadedFile) : [];
}

export interface ListChanges {
  /** What the column will hold. */
  list: UploadedFile[];
  /** Cached files new to the list: to claim and promote. */
  added: UploadedFile[];
  /** Files the row held that the list no longer has: to delete. */
  removed: UploadedFile[];
}

/**
 * Decides what an update of a list attachment means, against the row as it is under lock. The
 * entity's list says what the app wants (order, additions, removals); the row says what the
 * files really are now. A cached file a promotion already replaced is taken in its stored form,
 * and a file the row no longer has (removed by another save) is not brought back.
 */
export function reconcileList(
  wanted: UploadedFile[],
  row: UploadedFile[],
  claimed: ReadonlySet<string>,
  cacheStorage: string,
): ListChanges {
  const list: UploadedFile[] = [];
  const added: UploadedFile[] = [];
  for (const file of wanted) {
    const current =
      row.find((held) => sameFile(held, file)) ??
      (file.storage === cacheStorage ? row.find((held) => held.source === file.id) : undefined);
    if (current) list.push(current);
    else if (file.storage === cacheStorage && !claimed.has(file.id)) {
      list.push(file);
      added.push(file);
    }
  }
  const unique = list.filter((file, index) => list.findIndex((f) => sameFile(f, file)) === index);
  const removed = row.filter((held) => !unique.some((file) => sameFile(file, held)));
  return { list: unique, added, removed };
}
