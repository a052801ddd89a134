import { Injectable } from '@nestjs/common';
import { AttachmentsConfig } from '../../config/index.js';
import { listOf, sameFile, type PromoteJobData, type UploadedFile } from '../../core/index.js';
import { WorkOutbox } from '../../outbox/index.js';
import { readColumnsNow, readColumnsWhileRow } from '../../persistence/index.js';
import { FollowUps } from '../follow-ups.js';
import { PromotionStore } from '../promotion-store.js';
import { isTargetOf } from '../promotion-target.js';
import { PromotionWriter } from '../promotion-write.js';
import { WorkHandler } from './work-handler.js';

export type PromoteOutcome = 'promoted' | 'superseded' | 'done';

type Held = 'cached' | 'other' | UploadedFile;

/**
 * Copies a cached file to its permanent storage and points the record at it, if and only if
 * the record still holds that cached file at the moment of the write. It holds a database
 * connection only for one statement before the copy, one right after it, and the write's
 * transaction. Every step is safe to repeat or to overlap with another run: the target key is
 * fixed by the work, the write is conditional, and a copy is deleted only once the record is
 * known to have moved on to another file.
 */
@Injectable()
export class PromoteHandler extends WorkHandler<PromoteJobData, PromoteOutcome> {
  constructor(
    private readonly config: AttachmentsConfig,
    outbox: WorkOutbox,
    private readonly files: PromotionStore,
    private readonly writer: PromotionWriter,
    private readonly followUps: FollowUps,
  ) {
    super(outbox);
  }

  /**
   * Reads whether the work is still pending and what the record holds in one statement, where
   * other work reads its outbox row first.
   */
  override async handle(data: PromoteJobData): Promise<PromoteOutcome | 'skipped'> {
    const metadata = this.config.dataSource.getMetadata(data.entity);
    const read = await readColumnsWhileRow(
      this.config.dataSource,
      metadata,
      data.recordId,
      [data.attachment],
      this.outbox.pendingRow(data.workId),
    );
    if (!read) return 'skipped';
    return this.promote(data, this.heldIn(data, read.values?.[data.attachment]));
  }

  /** The same, for a caller that has checked the row already. */
  protected async run(data: PromoteJobData): Promise<PromoteOutcome> {
    return this.promote(data, await this.holds(data));
  }

  private async promote(data: PromoteJobData, held: Held): Promise<PromoteOutcome> {
    if (held === 'other') return this.abandon(data);
    let stored: UploadedFile;
    if (held === 'cached') {
      await this.config.step('promote:before-copy', data);
      stored = await this.files.store(data);
      if (!(await this.outbox.isPending(data.workId))) return this.afterLateCopy(data);
      await this.config.step('promote:before-write', data);
    } else {
      stored = held; // an earlier run wrote it and died before finishing: finish its work
    }
    const { outcome, followUps } = await this.writer.write(data, stored);
    if (outcome === 'superseded') return this.abandon(data);
    if (outcome === 'written') await this.config.step('promote:after-write', data);
    await this.followUps.dispatch(followUps);
    return outcome === 'written' ? 'promoted' : 'done';
  }

  /** What the record holds now, read without a lock: the write checks again under one. */
  private async holds(data: PromoteJobData): Promise<Held> {
    const metadata = this.config.dataSource.getMetadata(data.entity);
    const values = await readColumnsNow(this.config.dataSource, metadata, data.recordId, [
      data.attachment,
    ]);
    return this.heldIn(data, values?.[data.attachment]);
  }

  /** Whether the column's value holds the cached file, this promotion's target, or neither. */
  private heldIn(data: PromoteJobData, value: UploadedFile | null | undefined): Held {
    const files = data.inList ? listOf(value) : value ? [value] : [];
    if (files.some((file) => sameFile(file, data.file))) return 'cached';
    const ours = files.find(
      (file) => isTargetOf(file, data) && (!data.inList || file.source === data.file.id),
    );
    return ours ?? 'other';
  }

  /**
   * Another run ended this work while this one copied (this run was paused past its lock): the
   * copy may have recreated a file that was deleted after that run's write. Checked right after
   * the copy, before anything else can stop this run, since no later run of the work will come
   * to clean it up. The copy stays only if the record holds it.
   */
  private async afterLateCopy(data: PromoteJobData): Promise<PromoteOutcome> {
    const held = await this.holds(data);
    if (held !== 'cached' && held !== 'other') return 'done';
    await this.files.remove(data);
    return 'superseded';
  }

  /** The record is gone or holds another file: remove this promotion's copy, end quietly. */
  private async abandon(data: PromoteJobData): Promise<PromoteOutcome> {
    await this.files.remove(data);
    await this.finish(data);
    return 'superseded';
  }
}
