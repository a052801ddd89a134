import type { UploadedFile, DerivePayload } from '../core/index.js';
import { derivativeStem } from '../derivatives/index.js';

/** The work that makes derivative `name` of a stored original, beside it. */
export function derivePayload(
  entity: string,
  recordId: Record<string, unknown>,
  attachment: string,
  stored: UploadedFile,
  name: string,
): DerivePayload {
  return {
    kind: 'derive',
    entity,
    recordId,
    attachment,
    original: { id: stored.id, storage: stored.storage, metadata: stored.metadata },
    name,
    target: { storage: stored.storage, stem: derivativeStem(stored, name) },
  };
}
