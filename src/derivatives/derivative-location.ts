import { posix } from 'node:path';
import type { FileRef } from '../core/index.js';

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
