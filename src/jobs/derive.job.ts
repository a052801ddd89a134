import { Injectable } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import { AttachmentsConfig } from '../attachments-config.js';
import { sameFile, type UploadedFile } from '../core/uploaded-file.js';
import {
  DerivativeMaker,
  derivativeDefinition,
  derivativeStem,
} from '../derivatives/derivative-maker.js';
import { attachmentOf } from '../entity/attachment-registry.js';
import { mergeDerivative } from '../entity/derivative-columns.js';
import { readAttachmentColumns } from '../entity/record-columns.js';
import { AttachmentEvents } from '../events/attachment-events.js';
import { serialized } from '../entity/serialized-transactions.js';
import { WorkOutbox } from './work-outbox.service.js';
import type { DerivePayload } from './work-payload.js';

export type DeriveOutcome = 'made' | 'superseded' | 'skipped';

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
type DeriveData = DerivePayload & { workId: string };

/**
 * Makes one derivative of a stored original and merges it into the column's `derivatives` map,
 * only while the column still holds that original. Its output lives under a folder named after
 * the original, so a job that lost its race (or died before cleaning up) can remove it by
 * prefix without knowing the extension its processor chose.
 */
@Injectable()
export class DeriveJob {
  constructor(
    private readonly config: AttachmentsConfig,
    private readonly outbox: WorkOutbox,
    private readonly maker: DerivativeMaker,
    private readonly events: AttachmentEvents,
  ) {}

  async run(data: DeriveData): Promise<DeriveOutcome> {
    const work = await this.outbox.exists(data.workId);
    if (!work || work.status !== 'pending') return 'skipped';
    const metadata = this.config.dataSource.getMetadata(data.entity);
    const declared = attachmentOf(metadata.target, data.attachment)?.options.derivatives;
    const entry = declared?.[data.name];
    if (!entry) return this.finish(data, 'skipped'); // no longer declared
    const runner = this.config.dataSource.createQueryRunner();
    try {
      if (!(await this.stillHolds(runner, data))) return await this.abandon(data);
      const made = await this.maker.make(
        derivativeDefinition(entry).processor,
        data.original,
        data.target,
      );
      await this.config.options.jobHooks?.onStep?.(
        'derive:before-write',
        data as unknown as Record<string, unknown>,
      );
      if (!(await this.write(runner, data, made))) return await this.abandon(data);
      const { entity, recordId, attachment, name, original } = data;
      await this.events.emit({
        type: 'derivative',
        entity,
        recordId,
        attachment,
        name,
        file: made,
        original,
      });
      return 'made';
    } finally {
      await runner.release();
    }
  }

  private async stillHolds(runner: QueryRunner, data: DeriveData, lock = false) {
    const metadata = this.config.dataSource.getMetadata(data.entity);
    const values = await readAttachmentColumns(runner, metadata, data.recordId, [data.attachment], {
      lock,
    });
    const current = values?.[data.attachment] ?? null;
    return sameFile(current, data.original) ? current : null;
  }

  /**
   * Merges under a row lock, and in the same transaction records the deletion of the version it
   * replaces (a regenerated derivative with another extension), so nothing is orphaned.
   */
  private write(runner: QueryRunner, data: DeriveData, made: UploadedFile): Promise<boolean> {
    return serialized(this.config.dataSource, () => this.writeLocked(runner, data, made));
  }

  private async writeLocked(runner: QueryRunner, data: DeriveData, made: UploadedFile) {
    const metadata = this.config.dataSource.getMetadata(data.entity);
    await runner.startTransaction();
    let cleanup: ReturnType<WorkOutbox['create']> | undefined;
    try {
      const current = await this.stillHolds(runner, data, true);
      const written =
        !!current &&
        (await mergeDerivative(
          runner,
          metadata,
          data.recordId,
          data.attachment,
          data.original,
          data.name,
          made,
        ));
      const previous = current?.derivatives?.[data.name];
      if (written && previous && !sameFile(previous, made)) {
        cleanup = this.outbox.create(
          {
            kind: 'delete',
            reason: 'superseded',
            files: [{ storage: previous.storage, id: previous.id }],
          },
          { entity: data.entity, recordId: data.recordId },
        );
        await this.outbox.record(runner.manager, [cleanup]);
      }
      if (written) await this.outbox.finish([data.workId], runner.manager);
      await runner.commitTransaction();
      if (cleanup) await this.outbox.send([cleanup]);
      return written;
    } catch (error) {
      await runner.rollbackTransaction();
      throw error;
    }
  }

  /** The record moved on: remove whatever this derivative left under its folder. */
  private async abandon(data: DeriveData): Promise<DeriveOutcome> {
    const storage = this.config.storage(data.target.storage);
    const leftovers: string[] = [];
    for await (const file of storage.list(`${data.target.stem}.`)) leftovers.push(file.id);
    await storage.deleteMany(leftovers);
    return this.finish(data, 'superseded');
  }

  private async finish(data: DeriveData, outcome: DeriveOutcome): Promise<DeriveOutcome> {
    await this.outbox.finish([data.workId]);
    return outcome;
  }
}
