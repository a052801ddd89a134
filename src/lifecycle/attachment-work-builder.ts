import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm';
import { AttachmentsConfig } from '../config/index.js';
import {
  withDerivatives,
  type UploadedFile,
  TokenAlreadyUsedError,
  type DeleteReason,
  type FileRef,
} from '../core/index.js';
import { derivativeFolder } from '../derivatives/index.js';
import { attachmentOf, claimOf, insertClaim } from '../persistence/index.js';
import {
  type AttachmentWork,
  listPromotedEvent,
  listSettled,
  WorkOutbox,
} from '../outbox/index.js';
import type { ListChanges } from './list-changes.js';
import { promotePayload } from './promote-payload.js';

/** The outbox rows (and token claims) that a change of an entity's attachments implies. */
@Injectable()
export class AttachmentWorkBuilder {
  constructor(
    private readonly config: AttachmentsConfig,
    private readonly outbox: WorkOutbox,
  ) {}

  /** Takes the cached file for this transaction's record: a token works once. */
  async claim(runner: QueryRunner, file: UploadedFile): Promise<void> {
    const now = Date.now();
    try {
      await insertClaim(runner.manager, claimOf(file.id, now, this.config.cacheTtl));
    } catch (error) {
      throw Object.assign(new TokenAlreadyUsedError(file.id), { cause: error });
    }
  }

  promotion(
    metadata: EntityMetadata,
    idMap: ObjectLiteral,
    property: string,
    file: UploadedFile,
  ): AttachmentWork {
    const payload = promotePayload(this.config, metadata, idMap, property, file);
    return this.outbox.create(payload, { entity: metadata.name, recordId: idMap });
  }

  /**
   * Deletes the files and their derivatives: the ones the column names, and, for stored
   * originals of attachments with derivatives, everything in their derivatives' folder.
   */
  deletion(
    metadata: EntityMetadata,
    idMap: ObjectLiteral,
    removed: readonly { property: string; file: UploadedFile }[],
    reason: DeleteReason,
  ): AttachmentWork {
    const folders: FileRef[] = [];
    for (const { property, file } of removed) {
      const derivatives = attachmentOf(metadata.target, property)?.options.derivatives ?? {};
      if (file.storage === this.config.cacheStorage || Object.keys(derivatives).length === 0) {
        continue;
      }
      folders.push({ storage: file.storage, id: derivativeFolder(file) });
    }
    return this.outbox.create(
      {
        kind: 'delete',
        reason,
        files: removed.flatMap(({ file }) => withDerivatives(file)),
        ...(folders.length > 0 ? { folders } : {}),
      },
      { entity: metadata.name, recordId: idMap },
    );
  }

  /**
   * When a save removed the last files of a list that were waiting for promotion, nothing else
   * will tell the app the list is settled: this records that event.
   */
  async listSettledByRemoval(
    runner: QueryRunner,
    metadata: EntityMetadata,
    idMap: ObjectLiteral,
    property: string,
    changes: ListChanges,
  ): Promise<AttachmentWork | null> {
    const cancelled = changes.removed.some((file) => file.storage === this.config.cacheStorage);
    if (!cancelled || changes.added.length > 0) return null;
    if (!(await listSettled(runner.manager, changes.list, this.config.cacheStorage))) return null;
    const id = randomUUID();
    const target = { entity: metadata.name, recordId: idMap, attachment: property };
    return this.outbox.create(
      { kind: 'notify', event: listPromotedEvent(id, target, changes.list) },
      { id, entity: metadata.name, recordId: idMap },
    );
  }
}
