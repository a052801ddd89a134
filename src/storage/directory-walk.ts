import type { Dirent } from 'node:fs';
import * as fs from 'node:fs/promises';
import { fileIdTime } from '../core/index.js';
import { isMissing } from './fs.utils.js';

/** Entries fetched per read: a few hundred names at a time, never the whole folder. */
const ENTRIES_PER_READ = 256;

/**
 * How far a file's mtime may lie before the time in its name. The name is made before the
 * file is written, but the kernel stamps files from a coarse clock (a few milliseconds
 * behind), some filesystems keep whole or even seconds, and clocks get stepped.
 */
const NAME_TIME_SLACK_MS = 60_000;

/**
 * The entries of `folder`, read a few hundred at a time, so a folder of a million files costs
 * no more memory than one of a hundred; none when the folder does not exist (or has gone).
 * Iterating closes the folder when done, and when the loop stops early or throws.
 */
export async function openDirectory(
  folder: string,
): Promise<AsyncIterable<Dirent> | Iterable<Dirent>> {
  try {
    // The Dir itself, not a generator around it: one async step less for each entry.
    return await fs.opendir(folder, { bufferSize: ENTRIES_PER_READ });
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
}

/**
 * From when on a `newFileId` name shows that its file was modified at or after
 * `modifiedBefore`: a file is written after its name is made, so its mtime is no earlier
 * (give or take the slack above).
 */
export function namedYoungFrom(modifiedBefore: Date): number {
  return modifiedBefore.getTime() + NAME_TIME_SLACK_MS;
}

/** Whether `name` is a `newFileId` name made at or after `youngFrom` (ms). */
export function namedAtOrAfter(name: string, youngFrom: number): boolean {
  // Most names in a cache are such ids: the version digit rules out the others cheaply.
  if (name.charCodeAt(14) !== 0x37 /* "7" */) return false;
  const namedAt = fileIdTime(name);
  return namedAt !== undefined && namedAt >= youngFrom;
}
