import { In, type EntityManager } from 'typeorm';
import type { UploadedFile, AttachmentEventTarget, ListPromotedEvent } from '../core/index.js';
import { AttachmentWork } from './attachment-work.entity.js';

/**
 * Whether no file of `list` waits for its promotion: every cached element's promotion is
 * finished or failed for good. Asked under the record's row lock, after the change that may
 * have settled the list, so exactly one of the changes that race to settle it sees it settled.
 */
export async function listSettled(
  manager: EntityManager,
  list: readonly UploadedFile[],
  cacheStorage: string,
): Promise<boolean> {
  const cached = list.filter((file) => file.storage === cacheStorage).map((file) => file.id);
  if (cached.length === 0) return true;
  const waiting = await manager.getRepository(AttachmentWork).countBy({
    kind: 'promote',
    status: 'pending',
    cachedFileId: In(cached),
  });
  return waiting === 0;
}

export function listPromotedEvent(
  id: string,
  target: AttachmentEventTarget,
  files: UploadedFile[],
): ListPromotedEvent {
  const { entity, recordId, attachment } = target;
  return { type: 'listPromoted', id, entity, recordId, attachment, files };
}
