import type { UploadedFile, DerivePayload } from '../core/index.js';
import { derivativeStem } from '../derivatives/index.js';

/**
 * The work that makes derivative `name` of a stored original, beside it. `inList`: the original
 * is an element of an `@Attachments()` list, found there by its id and storage.
 */
export function derivePayload(
  entity: string,
  recordId: Record<string, unknown>,
  attachment: string,
  stored: UploadedFile,
  name: string,
  inList = false,
): DerivePayload {
  const { id, storage, metadata, source } = stored;
  return {
    kind: 'derive',
    entity,
    recordId,
    attachment,
    // An element's source (its cached id) lets a listener of the event tell which upload it was.
    original: { id, storage, metadata, ...(source === undefined ? {} : { source }) },
    name,
    target: { storage, stem: derivativeStem(stored, name) },
    ...(inList ? { inList: true as const } : {}),
  };
}
