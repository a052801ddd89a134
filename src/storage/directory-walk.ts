import type { Dirent } from 'node:fs';
import * as fs from 'node:fs/promises';
import { fileIdMadeSince } from '../core/index.js';
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
 * A test of whether a file's name shows it was modified at or after `modifiedBefore`: a
 * `newFileId` name made since then (give or take the slack above), since a file is written
 * after its name is made, so its mtime is no earlier. Other names show nothing.
 */
export function namedAtOrAfter(modifiedBefore: Date): (name: string) => boolean {
  return fileIdMadeSince(modifiedBefore.getTime() + NAME_TIME_SLACK_MS);
}
