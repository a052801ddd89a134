import { posix } from 'node:path';
import type { FileRef } from '../core/index.js';
import type { Storage } from '../storage/index.js';

/** What a processor's extension may be: the part of a derivative's id after its stem's dot. */
const EXTENSION = /^[a-z0-9]{1,10}$/;

/**
 * Where a derivative of `original` goes: beside it, in a folder named after it, so the name
 * is deterministic (a retried job overwrites its own output) and never collides with another
 * original's.
 */
export function derivativeStem(original: FileRef, name: string): string {
  return `${derivativeFolder(original)}${name}`;
}

/** The folder (key prefix, ending in `/`) that holds every derivative of `original`. */
export function derivativeFolder(original: FileRef): string {
  const { dir, name: stem } = posix.parse(original.id);
  return `${posix.join(dir, stem)}/`;
}

/** Whether a processor's extension (without its dot) can end a derivative's id. */
export function isDerivativeExtension(extension: string): boolean {
  return EXTENSION.test(extension);
}

/**
 * The ids of the files stored at `stem`, whatever extension each making chose: only
 * `<stem>.<extension>`, since names may hold dots and `thumb.large.webp` (a derivative named
 * `thumb.large`) shares the prefix of `thumb`'s files without being one.
 */
export async function derivativeFilesAt(storage: Storage, stem: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const file of storage.list(`${stem}.`)) {
    if (isDerivativeExtension(file.id.slice(stem.length + 1))) ids.push(file.id);
  }
  return ids;
}
