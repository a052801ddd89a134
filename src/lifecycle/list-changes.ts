import { sameFile, type UploadedFile } from '../core/index.js';

export interface ListChanges {
  /** What the column will hold. */
  list: UploadedFile[];
  /** Cached files new to the list: to claim and promote. */
  added: UploadedFile[];
  /** Files the row held that the list no longer has: to delete. */
  removed: UploadedFile[];
}

export interface ListContext {
  /** The ids the object's list held when it was loaded or last saved; undefined if unknown. */
  loaded: readonly string[] | undefined;
  /** Whether `attach()` handed out this cached file and no committed save took it yet. */
  isFresh: (file: UploadedFile) => boolean;
  cacheStorage: string;
}

/**
 * Decides what an update of a list attachment means, against the row as it is under lock. The
 * object's list says what the app wants (order, additions, removals); the row says what the
 * files are now. A cached file that a promotion stored since is taken in its stored form; a
 * file the row no longer has is not brought back, unless `attach()` just handed it out; and a
 * file another save added since this object was loaded is kept, after the others.
 */
export function reconcileList(
  wanted: UploadedFile[],
  row: UploadedFile[],
  context: ListContext,
): ListChanges {
  const isCached = (file: UploadedFile) => file.storage === context.cacheStorage;
  const list: UploadedFile[] = [];
  const added: UploadedFile[] = [];
  const push = (file: UploadedFile) => {
    if (!list.some((held) => sameFile(held, file))) list.push(file);
  };
  for (const file of wanted) {
    const current =
      row.find((held) => sameFile(held, file)) ??
      (isCached(file) ? row.find((held) => held.source === file.id) : undefined);
    if (current) push(current);
    else if (isCached(file) && context.isFresh(file)) {
      push(file);
      added.push(file);
    }
  }
  const removed: UploadedFile[] = [];
  for (const held of row) {
    if (list.some((file) => sameFile(file, held))) continue;
    const knownToObject =
      !context.loaded ||
      context.loaded.includes(held.id) ||
      (held.source !== undefined && context.loaded.includes(held.source));
    if (knownToObject) removed.push(held);
    else list.push(held); // added by another save after this object was loaded
  }
  return { list, added, removed };
}
