import { Injectable } from '@nestjs/common';
import { AttachmentsConfig } from '../../config/attachments-config.js';
import { sameFile, type UploadedFile } from '../../core/uploaded-file.js';
import {
  DerivativeMaker,
  derivativeDefinition,
  derivativeStem,
} from '../../derivatives/derivative-maker.js';
import { attachmentOf } from '../../persistence/attachment-registry.js';
import { listOf } from '../../lifecycle/list-changes.js';
import { readColumnsNow } from '../../persistence/sql/record-columns.js';
import type { JobStep } from '../../config/attachments-module-options.js';
import { NotifyJob } from './notify.handler.js';
import { isTargetOf, stemOf } from '../promotion-target.js';
import { PromotionWriter, type PromoteData } from '../promotion-write.js';
import { WorkOutbox } from '../../outbox/work-outbox.service.js';

export type PromoteOutcome = 'promoted' | 'superseded' | 'skipped';

/**
 * Copies a cached file to its permanent storage and points the record at it, if and only if
 * the record still holds that cached file at the moment of the write. It holds a database
 * connection only for a read before the copy and for the write's transaction after it. Every
 * step is safe to repeat or to overlap with another run: the target key is fixed by the work,
 * the write is conditional, and a copy is deleted only once the record is known to have moved
 * on to another file.
 */
@Injectable()
export class PromoteJob {
  constructor(
    private readonly config: AttachmentsConfig,
    private readonly outbox: WorkOutbox,
    private readonly maker: DerivativeMaker,
    private readonly writer: PromotionWriter,
    private readonly notify: NotifyJob,
  ) {}

  async run(data: PromoteData): Promise<PromoteOutcome> {
    if (!(await this.outbox.pending(data.workId))) return 'skipped';
    const held = await this.holds(data);
    if (held === 'other') return this.abandon(data);
    let stored: UploadedFile;
    if (held === 'cached') {
      await this.step('promote:before-copy', data);
      stored = await this.store(data);
      await this.step('promote:before-write', data);
    } else {
      stored = held; // an earlier run wrote it and died before finishing: finish its work
    }
    const { outcome, followUps } = await this.writer.write(data, stored);
    if (outcome === 'superseded') return this.abandon(data);
    if (outcome === 'written') await this.step('promote:after-write', data);
    await this.outbox.send(followUps.filter((row) => row.kind !== 'notify'));
    await this.notify.deliver(followUps);
    return outcome === 'written' ? 'promoted' : 'skipped';
  }

  /** What the record holds now, read without a lock: the write checks again under one. */
  private async holds(data: PromoteData): Promise<'cached' | 'other' | UploadedFile> {
    const metadata = this.config.dataSource.getMetadata(data.entity);
    const values = await readColumnsNow(this.config.dataSource, metadata, data.recordId, [
      data.attachment,
    ]);
    const value = values?.[data.attachment];
    const files = data.inList ? listOf(value) : value ? [value] : [];
    if (files.some((file) => sameFile(file, data.file))) return 'cached';
    const ours = files.find(
      (file) => isTargetOf(file, data) && (!data.inList || file.source === data.file.id),
    );
    return ours ?? 'other';
  }

  /**
   * Puts the original in its permanent place (processed first when the attachment preprocesses
   * it) and makes the derivatives marked to run during promotion.
   */
  private async store(data: PromoteData): Promise<UploadedFile> {
    const options = this.optionsOf(data);
    let stored: UploadedFile;
    if (options.preprocess) {
      const target = { storage: data.target.storage, stem: stemOf(data.target.id) };
      const made = await this.maker.make(options.preprocess, data.file, target);
      stored = { ...made, metadata: { ...made.metadata, filename: data.file.metadata.filename } };
    } else {
      await this.config
        .storage(data.target.storage)
        .copy(this.config.storage(data.file.storage), data.file.id, data.target.id);
      stored = { ...data.target, metadata: data.file.metadata };
    }
    if (data.inList) stored.source = data.file.id;
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
   * The record is gone or holds another file, as read under the write's lock or after it moved
   * on: remove what this promotion may have stored (the original under its fixed stem, whatever
   * extension preprocessing gave it, and the folder of its derivatives) and end quietly.
   */
  private async abandon(data: PromoteData): Promise<PromoteOutcome> {
    const storage = this.config.storage(data.target.storage);
    const leftovers = new Set([data.target.id]);
    for await (const file of storage.list(stemOf(data.target.id))) leftovers.add(file.id);
    await storage.deleteMany([...leftovers]);
    await this.outbox.finish([data.workId]);
    return 'superseded';
  }

  private optionsOf(data: PromoteData) {
    const metadata = this.config.dataSource.getMetadata(data.entity);
    return attachmentOf(metadata.target, data.attachment)?.options ?? {};
  }

  private async step(step: JobStep, data: PromoteData): Promise<void> {
    await this.config.options.jobHooks?.onStep?.(step, data as unknown as Record<string, unknown>);
  }
}
