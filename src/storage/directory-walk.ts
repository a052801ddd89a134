import type { Dir, Dirent } from 'node:fs';
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
 */
export async function* directoryEntries(folder: string): AsyncGenerator<Dirent> {
  let directory: Dir;
  try {
    directory = await fs.opendir(folder, { bufferSize: ENTRIES_PER_READ });
  } catch (error) {
    if (isMissing(error)) return;
    throw error;
  }
  // Iterating closes the handle when done, and when the consumer stops early or throws.
  yield* directory;
}

/**
 * Whether the file named `name` was surely modified at or after `modifiedBefore`, known from
 * the time a `newFileId` name carries: a file is written after its name is made, so its mtime
 * is no earlier (give or take the slack above). Unknown, so false, for any other name.
 */
export function namedAtOrAfter(name: string, modifiedBefore: Date): boolean {
  const namedAt = fileIdTime(name);
  return namedAt !== undefined && namedAt >= modifiedBefore.getTime() + NAME_TIME_SLACK_MS;
}
