import type { EntityMetadata, ObjectLiteral } from 'typeorm';
import type { AttachmentsConfig } from '../config/index.js';
import {
  kebabCase,
  pathSafeRecordId,
  storedFileId,
  type UploadedFile,
  type PromotePayload,
} from '../core/index.js';
import { attachmentOf } from '../persistence/index.js';

/** Decides, when the work is recorded, where the cached file will be promoted to. */
export function promotePayload(
  config: AttachmentsConfig,
  metadata: EntityMetadata,
  idMap: ObjectLiteral,
  property: string,
  file: UploadedFile,
): PromotePayload {
  const definition = attachmentOf(metadata.target, property);
  const options = definition?.options ?? {};
  const targetId = storedFileId(options.location ?? 'record', {
    entityName: kebabCase(metadata.name),
    recordId: pathSafeRecordId(idMap),
    attachment: property,
    file,
  });
  return {
    kind: 'promote',
    entity: metadata.name,
    recordId: idMap,
    attachment: property,
    file,
    target: { storage: options.storage ?? config.storeStorage, id: targetId },
    ...(definition?.multiple ? { inList: true } : {}),
  };
}
