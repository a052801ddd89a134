import type { UploadedFile, PromotePayload } from '../core/index.js';

/** The target id without its extension: preprocessing may store the original as another type. */
export function stemOf(id: string): string {
  return id.replace(/\.[a-z0-9]{1,10}$/, '');
}

/** Whether `current` is what this promotion stores (its target, possibly re-typed). */
export function isTargetOf(current: UploadedFile, data: PromotePayload): boolean {
  return (
    current.storage === data.target.storage &&
    (current.id === data.target.id || stemOf(current.id) === stemOf(data.target.id))
  );
}
