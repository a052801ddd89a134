import { Injectable } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import { AttachmentsConfig } from '../../config/attachments-config.js';
import { sameFile, type UploadedFile } from '../../core/uploaded-file.js';
import { DerivativeMaker, derivativeDefinition } from '../../derivatives/derivative-maker.js';
import { attachmentOf } from '../../persistence/attachment-registry.js';
import { mergeDerivative } from '../../persistence/sql/derivative-columns.js';
import { readAttachmentColumns, readColumnsNow } from '../../persistence/sql/record-columns.js';
import { inTransaction } from '../../persistence/sql/transactions.js';
import { AttachmentEvents } from '../../events/attachment-events.js';
import type { JobStep } from '../../config/attachments-module-options.js';
import type { AttachmentWork } from '../../outbox/attachment-work.entity.js';
import { NotifyJob } from './notify.handler.js';
import { WorkOutbox } from '../../outbox/work-outbox.service.js';
import type { DerivePayload } from '../../core/work-payload.js';

export type DeriveOutcome = 'made' | 'superseded' | 'skipped';
type DeriveData = DerivePayload & { workId: string };

/**
 * Makes one derivative of a stored original and merges it into the column's `derivatives` map,
 * only while the column still holds that original. Its output lives under a folder named after
 * the original, so a job that lost its race (or died before cleaning up) can remove it by
 * prefix without knowing the extension its processor chose, and deleting the original deletes
 * the folder. No database connection is held while the processor runs.
 */
@Injectable()
export class DeriveJob {
  constructor(
    private readonly config: AttachmentsConfig,
    private readonly outbox: WorkOutbox,
    private readonly maker: DerivativeMaker,
    private readonly events: AttachmentEvents,
    private readonly notify: NotifyJob,
  ) {}

  async run(data: DeriveData): Promise<DeriveOutcome> {
    if (!(await this.outbox.pending(data.workId))) return 'skipped';
    const metadata = this.config.dataSource.getMetadata(data.entity);
    const declared = attachmentOf(metadata.target, data.attachment)?.options.derivatives;
    const entry = declared?.[data.name];
    if (!entry) return this.finish(data, 'skipped'); // no longer declared
    const values = await readColumnsNow(this.config.dataSource, metadata, data.recordId, [
      data.attachment,
    ]);
    if (!sameFile(values?.[data.attachment], data.original)) return this.abandon(data);
    await this.step('derive:before-make', data);
    const made = await this.maker.make(
      derivativeDefinition(entry).processor,
      data.original,
      data.target,
    );
    await this.step('derive:before-write', data);
    const followUps = await inTransaction(this.config.dataSource, (runner) =>
      this.write(runner, data, made),
    );
    if (!followUps) return this.abandon(data);
    await this.outbox.send(followUps.filter((row) => row.kind !== 'notify'));
    await this.notify.deliver(followUps);
    return 'made';
  }

  /**
   * Merges under the row lock and, in the same transaction, ends the work and records the
   * deletion of the version it replaces (a regenerated derivative with another extension).
   * Returns the rows recorded, or null when the record moved on.
   */
  private async write(
    runner: QueryRunner,
    data: DeriveData,
    made: UploadedFile,
  ): Promise<AttachmentWork[] | null> {
    const metadata = this.config.dataSource.getMetadata(data.entity);
    const { recordId, attachment, name } = data;
    const values = await readAttachmentColumns(runner, metadata, recordId, [attachment], {
      lock: true,
    });
    const current = values?.[attachment];
    if (!current || !sameFile(current, data.original)) return null;
    await mergeDerivative(runner, metadata, recordId, attachment, data.original, name, made);
    // Another run of this work merged first: it recorded what follows.
    if ((await this.outbox.finish([data.workId], runner.manager)) === 0) return [];
    const followUps: AttachmentWork[] = [];
    const previous = current.derivatives?.[name];
    if (previous && !sameFile(previous, made)) {
      const files = [{ storage: previous.storage, id: previous.id }];
      followUps.push(
        this.outbox.create(
          { kind: 'delete', reason: 'superseded', files },
          { entity: data.entity, recordId, id: `${data.workId}.superseded` },
        ),
      );
    }
    if (this.events.wants('derivative', data.entity, attachment)) {
      const id = `${data.workId}.derivative`;
      const { entity, original } = data;
      followUps.push(
        this.notify.row({
          type: 'derivative',
          id,
          entity,
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

  private async step(step: JobStep, data: DeriveData): Promise<void> {
    await this.config.options.jobHooks?.onStep?.(step, data as unknown as Record<string, unknown>);
  }
}
