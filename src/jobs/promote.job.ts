import { Injectable } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import { AttachmentsConfig } from '../attachments-config.js';
import { sameFile, type UploadedFile } from '../core/uploaded-file.js';
import { compareAndSetAttachment, readAttachmentColumns } from '../entity/record-columns.js';
import { WorkOutbox } from './work-outbox.service.js';
import type { PromotePayload, WorkJobData } from './work-payload.js';

export type PromoteOutcome = 'promoted' | 'superseded' | 'skipped';

/**
 * Copies a cached file to its permanent storage and points the record at it, if and only if
 * the record still holds that cached file at the moment of the write. Every step is safe to
 * repeat: the target key is fixed by the work, and a copy that lost its race is deleted.
 */
@Injectable()
export class PromoteJob {
  constructor(
    private readonly config: AttachmentsConfig,
    private readonly outbox: WorkOutbox,
  ) {}

  async run(data: PromotePayload & { workId: string }): Promise<PromoteOutcome> {
    const work = await this.outbox.exists(data.workId);
    if (!work || work.status !== 'pending') return 'skipped';
    const runner = this.config.dataSource.createQueryRunner();
    try {
      return await this.promote(runner, data);
    } finally {
      await runner.release();
    }
  }

  private async promote(
    runner: QueryRunner,
    data: PromotePayload & { workId: string },
  ): Promise<PromoteOutcome> {
    const metadata = this.config.dataSource.getMetadata(data.entity);
    const stored: UploadedFile = { ...data.target, metadata: data.file.metadata };
    const values = await readAttachmentColumns(runner, metadata, data.recordId, [data.attachment]);
    const current = values?.[data.attachment] ?? null;
    // Already stored means an earlier attempt wrote the column and died before cleaning up.
    if (!sameFile(current, stored)) {
      if (!sameFile(current, data.file)) return this.abandon(data);
      await this.step('promote:before-copy', data);
      await this.config
        .storage(data.target.storage)
        .copy(this.config.storage(data.file.storage), data.file.id, data.target.id);
      await this.step('promote:before-write', data);
      const written = await compareAndSetAttachment(
        runner,
        metadata,
        data.recordId,
        data.attachment,
        data.file,
        stored,
      );
      if (!written) return this.abandon(data);
    }
    await this.scheduleCachedDeletion(data);
    return 'promoted';
  }

  /** The record is gone or holds another file: remove our copy, if any, and end quietly. */
  private async abandon(data: PromotePayload & { workId: string }): Promise<PromoteOutcome> {
    await this.config.storage(data.target.storage).delete(data.target.id);
    await this.outbox.finish([data.workId]);
    return 'superseded';
  }

  /** Pages rendered during promotion still show the cached URL: keep it for a grace period. */
  private async scheduleCachedDeletion(data: PromotePayload & { workId: string }) {
    const id = `${data.workId}.cached`;
    const cleanup =
      (await this.outbox.exists(id)) ??
      this.outbox.create(
        {
          kind: 'delete',
          reason: 'promoted',
          files: [{ storage: data.file.storage, id: data.file.id }],
        },
        {
          id,
          entity: data.entity,
          recordId: data.recordId,
          delay: this.config.cacheDeleteDelay,
        },
      );
    await this.outbox.record(this.config.dataSource.manager, [cleanup]).catch(async (error) => {
      // Inserted by an earlier attempt that died right after: that row is the one we want.
      if (!(await this.outbox.exists(id))) throw error;
    });
    await this.outbox.finish([data.workId]);
    await this.outbox.send([cleanup]);
  }

  private async step(step: 'promote:before-copy' | 'promote:before-write', data: WorkJobData) {
    await this.config.options.jobHooks?.onStep?.(step, data as unknown as Record<string, unknown>);
  }
}
