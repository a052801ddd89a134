import { Injectable } from '@nestjs/common';
import type { EntityMetadata, QueryRunner } from 'typeorm';
import { AttachmentsConfig } from '../attachments-config.js';
import { sameFile, type UploadedFile } from '../core/uploaded-file.js';
import { compareAndSetAttachment, readAttachmentColumns } from '../entity/record-columns.js';
import { AttachmentEvents } from '../events/attachment-events.js';
import { AttachmentWork } from './attachment-work.entity.js';
import { WorkOutbox } from './work-outbox.service.js';
import { derivePayload } from './derive.job.js';
import type { PromotePayload, WorkJobData } from './work-payload.js';
import {
  DerivativeMaker,
  derivativeDefinition,
  derivativeStem,
} from '../derivatives/derivative-maker.js';
import { attachmentOf } from '../entity/attachment-registry.js';
import { listOf } from '../entity/list-changes.js';
import { writeListElement } from '../entity/list-element-write.js';

/** The target id without its extension: preprocessing may store the original as another type. */
function stemOf(id: string): string {
  return id.replace(/\.[a-z0-9]{1,10}$/, '');
}

/** Whether `current` is what this promotion stored (its target, possibly re-typed). */
function isOurs(current: UploadedFile, data: PromotePayload): boolean {
  return (
    current.storage === data.target.storage &&
    (current.id === data.target.id || stemOf(current.id) === stemOf(data.target.id))
  );
}

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
    private readonly maker: DerivativeMaker,
    private readonly events: AttachmentEvents,
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
    const values = await readAttachmentColumns(runner, metadata, data.recordId, [data.attachment]);
    if (data.inList) {
      return this.promoteElement(runner, data, metadata, listOf(values?.[data.attachment]));
    }
    const current = values?.[data.attachment] ?? null;
    // Already stored means an earlier attempt wrote the column and died before cleaning up.
    if (current && isOurs(current, data)) return this.followUp(data, current);
    if (!sameFile(current, data.file)) return this.abandon(data);
    await this.step('promote:before-copy', data);
    const stored = await this.store(data);
    await this.step('promote:before-write', data);
    const written = await compareAndSetAttachment(
      runner,
      metadata,
      data.recordId,
      data.attachment,
      data.file,
      stored,
    );
    return written ? this.followUp(data, stored) : this.abandon(data);
  }

  /** The same steps for one element of a list, which is written back in place. */
  private async promoteElement(
    runner: QueryRunner,
    data: PromotePayload & { workId: string },
    metadata: EntityMetadata,
    list: UploadedFile[],
  ): Promise<PromoteOutcome> {
    const ours = list.find((file) => file.source === data.file.id && isOurs(file, data));
    if (ours) return this.followUp(data, ours);
    if (!list.some((file) => sameFile(file, data.file))) return this.abandon(data);
    await this.step('promote:before-copy', data);
    const stored: UploadedFile = { ...(await this.copyToTarget(data)), source: data.file.id };
    await this.step('promote:before-write', data);
    const { written, completed } = await writeListElement(
      runner,
      metadata,
      data.recordId,
      data.attachment,
      data.file,
      stored,
      this.config.cacheStorage,
    );
    if (!written) return this.abandon(data);
    const outcome = await this.followUp(data, stored);
    if (completed) {
      const { entity, recordId, attachment } = data;
      await this.events.emit({
        type: 'listPromoted',
        entity,
        recordId,
        attachment,
        files: completed,
      });
    }
    return outcome;
  }

  /**
   * Puts the original in its permanent place (processed first when the attachment preprocesses
   * it) and makes the derivatives marked to run during promotion.
   */
  private async store(data: PromotePayload & { workId: string }): Promise<UploadedFile> {
    const options = this.optionsOf(data);
    let stored: UploadedFile;
    if (options.preprocess) {
      const target = { storage: data.target.storage, stem: stemOf(data.target.id) };
      const made = await this.maker.make(options.preprocess, data.file, target);
      stored = { ...made, metadata: { ...made.metadata, filename: data.file.metadata.filename } };
    } else {
      stored = await this.copyToTarget(data);
    }
    for (const [name, entry] of Object.entries(options.derivatives ?? {})) {
      const definition = derivativeDefinition(entry);
      if (!definition.duringPromotion) continue;
      const target = { storage: stored.storage, stem: derivativeStem(stored, name) };
      const derivative = await this.maker.make(definition.processor, stored, target);
      stored.derivatives = { ...stored.derivatives, [name]: derivative };
    }
    return stored;
  }

  /**
   * The record is gone or holds another file: remove what this promotion may have stored (the
   * original under its fixed stem, whatever extension preprocessing gave it, and the folder of
   * its derivatives) and end quietly.
   */
  private async abandon(data: PromotePayload & { workId: string }): Promise<PromoteOutcome> {
    const storage = this.config.storage(data.target.storage);
    const leftovers = new Set([data.target.id]);
    for await (const file of storage.list(stemOf(data.target.id))) leftovers.add(file.id);
    await storage.deleteMany([...leftovers]);
    await this.outbox.finish([data.workId]);
    return 'superseded';
  }

  /**
   * After the write: the cached copy is deleted after a grace period (pages rendered during
   * promotion still show its URL), and each background derivative gets a job. Their ids derive
   * from this work's id, so a retried promotion records them once.
   */
  private async followUp(data: PromotePayload & { workId: string }, stored: UploadedFile) {
    const options = { entity: data.entity, recordId: data.recordId };
    const work = [
      this.outbox.create(
        {
          kind: 'delete',
          reason: 'promoted',
          files: [{ storage: data.file.storage, id: data.file.id }],
        },
        { ...options, id: `${data.workId}.cached`, delay: this.config.cacheDeleteDelay },
      ),
    ];
    for (const [name, entry] of Object.entries(this.optionsOf(data).derivatives ?? {})) {
      if (derivativeDefinition(entry).duringPromotion || stored.derivatives?.[name]) continue;
      const payload = derivePayload(data.entity, data.recordId, data.attachment, stored, name);
      work.push(this.outbox.create(payload, { ...options, id: `${data.workId}.derive.${name}` }));
    }
    const fresh: AttachmentWork[] = [];
    for (const row of work) if (!(await this.outbox.exists(row.id))) fresh.push(row);
    // No transaction needed: a retry finds the rows recorded here and records only the rest.
    await this.outbox.record(this.config.dataSource.manager, fresh);
    await this.outbox.finish([data.workId]);
    await this.outbox.send(work);
    // The cached copy's deletion is recorded once: by the run that wrote, not by a retry.
    if (fresh.some((row) => row.id === `${data.workId}.cached`)) {
      const { entity, recordId, attachment, file: cached } = data;
      await this.events.emit({
        type: 'promoted',
        entity,
        recordId,
        attachment,
        file: stored,
        cached,
      });
    }
    return 'promoted' as const;
  }

  /** The cached file as is at its target: linked, cloned or copied server-side where possible. */
  private async copyToTarget(data: PromotePayload): Promise<UploadedFile> {
    await this.config
      .storage(data.target.storage)
      .copy(this.config.storage(data.file.storage), data.file.id, data.target.id);
    return { ...data.target, metadata: data.file.metadata };
  }

  private optionsOf(data: PromotePayload) {
    const metadata = this.config.dataSource.getMetadata(data.entity);
    return attachmentOf(metadata.target, data.attachment)?.options ?? {};
  }

  private async step(step: 'promote:before-copy' | 'promote:before-write', data: WorkJobData) {
    await this.config.options.jobHooks?.onStep?.(step, data as unknown as Record<string, unknown>);
  }
}
