import { Injectable } from '@nestjs/common';
import type { EntityManager, QueryRunner } from 'typeorm';
import { AttachmentsConfig } from '../config/index.js';
import {
  isUploadedFile,
  listOf,
  sameFile,
  type FileRef,
  type UploadedFile,
} from '../core/index.js';
import { WorkOutbox, type AttachmentWork } from '../outbox/index.js';
import { mergeDerivative, readAttachmentColumns } from '../persistence/index.js';
import { EventDelivery } from './event-delivery.js';
import { NotifyHandler } from './handlers/notify.handler.js';

/** Which derivative of which original, on which record, a write is for. */
export interface DerivativeWriteTarget {
  entity: string;
  recordId: Record<string, unknown>;
  attachment: string;
  /** The stored original the derivative was made from. */
  original: UploadedFile;
  /** The original is an element of an `@Attachments()` list: the write goes into that element. */
  inList?: boolean;
  name: string;
  /**
   * Prefix of the ids of the work the write records (the replaced version's deletion, the
   * event): deterministic, so a repeated write records each of them once.
   */
  followUpId: string;
  /**
   * Ends the work this write belongs to, in the write's transaction. It returns 0 when another
   * run ended it first: that run recorded what follows. Absent for a write of no outbox work.
   */
  end?: (manager: EntityManager) => Promise<number>;
}

/**
 * The one write of a made derivative, shared by the derivative job and the on-demand endpoint:
 * under the row lock, merge it into the column only while the column still holds its original,
 * and in the same transaction record the deletion of the version it replaces and the
 * `derivative` event.
 */
@Injectable()
export class DerivativeWriter {
  constructor(
    private readonly config: AttachmentsConfig,
    private readonly outbox: WorkOutbox,
    private readonly events: EventDelivery,
    private readonly notify: NotifyHandler,
  ) {}

  /** Returns the work recorded (to send), or null when the record moved on. */
  async write(
    runner: QueryRunner,
    target: DerivativeWriteTarget,
    made: UploadedFile,
  ): Promise<AttachmentWork[] | null> {
    const metadata = this.config.dataSource.getMetadata(target.entity);
    const { recordId, attachment, name, original } = target;
    const values = await readAttachmentColumns(runner, metadata, recordId, [attachment], {
      lock: true,
    });
    const current = originalIn(values?.[attachment], target);
    if (!current) return null;
    const inList = target.inList ?? false;
    await mergeDerivative(runner, metadata, recordId, attachment, original, name, made, { inList });
    if (target.end && (await target.end(runner.manager)) === 0) return [];
    const followUps: AttachmentWork[] = [];
    const previous = current.derivatives?.[name];
    if (previous && !sameFile(previous, made)) {
      const files = [{ storage: previous.storage, id: previous.id }];
      followUps.push(
        this.outbox.create(
          { kind: 'delete', reason: 'superseded', files },
          { entity: target.entity, recordId, id: `${target.followUpId}.superseded` },
        ),
      );
    }
    if (this.events.wants('derivative', target.entity, attachment)) {
      followUps.push(
        this.notify.row({
          type: 'derivative',
          id: `${target.followUpId}.derivative`,
          entity: target.entity,
          recordId,
          attachment,
          name,
          file: made,
          original,
        }),
      );
    }
    await this.outbox.record(runner.manager, followUps, { once: true });
    return followUps;
  }
}

/**
 * The file of a column's value that is the target's original: the value itself for a single
 * attachment, the element with the original's id and storage for a list; undefined when the
 * record moved on.
 */
export function originalIn(
  value: unknown,
  target: { original: FileRef; inList?: boolean },
): UploadedFile | undefined {
  const files = target.inList ? listOf(value) : isUploadedFile(value) ? [value] : [];
  return files.find((file) => sameFile(file, target.original));
}
