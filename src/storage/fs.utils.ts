import type { Dirent, Stats } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/** What a walk from the root down to a file found. */
export interface PathCheck {
  /** The path does not leave the root through a symlink. */
  inside: boolean;
  /**
   * The file's own entry, which is then no symlink; null when the file does not exist;
   * undefined when a symlink on the way left it unknown (stat the path to know).
   */
  entry?: Stats | null;
}

/**
 * Whether the deepest existing part of `file` (the file itself, else its nearest existing
 * parent) really lies inside `root`, whose resolved path is `realRoot` (null while the root does
 * not exist), so a symlink planted in the tree cannot lead reads or writes elsewhere. A dangling
 * symlink fails too: the storage never makes symlinks.
 *
 * It walks down from the root with one lstat per component and stops at the first that does not
 * exist (nothing below it can be a symlink): the root's own parents, already resolved, are never
 * looked at again. Only a path that meets a symlink is resolved as a whole.
 */
export async function checkPathInside(
  root: string,
  realRoot: string | null,
  file: string,
): Promise<PathCheck> {
  if (realRoot === null) return { inside: true, entry: null }; // no root yet: nothing in it
  let current = root;
  let entry: Stats | null = null;
  for (const part of path.relative(root, file).split(path.sep)) {
    current = path.join(current, part);
    entry = await lstatOrNull(current);
    if (!entry) return { inside: true, entry: null };
    if (entry.isSymbolicLink()) return { inside: await resolvesInside(root, realRoot, file) };
  }
  return { inside: true, entry };
}

/** The same question answered by resolving the deepest existing part of `file`. */
async function resolvesInside(root: string, realRoot: string, file: string): Promise<boolean> {
  for (let current = file; current !== root; current = path.dirname(current)) {
    let real: string;
    try {
      real = await fs.realpath(current);
    } catch (error) {
      if (!isMissing(error)) throw error;
      const entry = await lstatOrNull(current);
      if (!entry) continue;
      if (entry.isSymbolicLink()) return false; // dangling symlink
      // Created between the two calls (a concurrent upload making the same folder): look again.
      real = await fs.realpath(current);
    }
    return isInside(realRoot, real, current !== file);
  }
  return true;
}

/** The resolved path of `folder`, or null when it does not exist. */
export async function realPathOrNull(folder: string): Promise<string | null> {
  try {
    return await fs.realpath(folder);
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}

async function lstatOrNull(file: string): Promise<Stats | null> {
  try {
    return await fs.lstat(file);
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
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
