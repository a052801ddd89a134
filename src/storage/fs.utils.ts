import type { Dirent, Stats } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/**
 * Whether the deepest existing part of `file` (the file itself, else its nearest existing
 * parent) really lies inside `root`, so a symlink planted in the tree cannot lead reads or writes
 * elsewhere. A dangling symlink fails too: the storage never makes symlinks.
 */
export async function realPathStaysInside(root: string, file: string): Promise<boolean> {
  const realRoot = await fs.realpath(root).catch(() => null);
  if (realRoot === null) return true; // no root yet, so nothing in it can be a symlink
  for (let current = file; current !== root; current = path.dirname(current)) {
    let real: string;
    try {
      real = await fs.realpath(current);
    } catch (error) {
      if (!isMissing(error)) throw error;
      const entry = await fs.lstat(current).catch(() => null);
      if (!entry) continue;
      if (entry.isSymbolicLink()) return false; // dangling symlink
      // Created between the two calls (a concurrent upload making the same folder): look again.
      real = await fs.realpath(current);
    }
    return isInside(realRoot, real, current !== file);
  }
  return true;
}

export function isInside(root: string, candidate: string, allowRoot: boolean): boolean {
  const relative = path.relative(root, candidate);
  if (relative === '') return allowRoot;
  return relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}

export async function statOrNull(file: string): Promise<Stats | null> {
  try {
    return await fs.stat(file);
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}

export function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}

/** ENOTDIR counts as missing: `a/b` cannot exist when `a` is a file. */
export function isMissing(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Entries of `folder`, or none when it does not exist. */
export async function readDirectory(folder: string): Promise<Dirent[]> {
  try {
    return await fs.readdir(folder, { withFileTypes: true });
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
}

/** Removes the folders above `file` that became empty, up to but never including `root`. */
export async function pruneEmptyParents(root: string, file: string): Promise<void> {
  for (let current = path.dirname(file); isInside(root, current, false);) {
    try {
      await fs.rmdir(current);
    } catch (error) {
      // ENOTEMPTY / EEXIST: still in use, and so are its parents. ENOENT: raced, go on.
      if (!isMissing(error)) return;
    }
    current = path.dirname(current);
  }
}
