import { In, type EntityManager } from 'typeorm';
import type { UploadedFile, AttachmentEventTarget, ListPromotedEvent } from '../core/index.js';
import { dialectOf } from '../persistence/index.js';
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
  const where = { kind: 'promote' as const, status: 'pending' as const, cachedFileId: In(cached) };
  // Under a snapshot (a save's transaction on MySQL), only a locking read sees the promotions
  // that finished since the transaction's first read.
  const latest = dialectOf(manager.connection).snapshotReads;
  const waiting = await manager
    .getRepository(AttachmentWork)
    .count(latest ? { where, lock: { mode: 'pessimistic_read' } } : { where });
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
