import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AttachmentsConfig } from '../../config/index.js';
import { sameFile, type DeriveJobData, type UploadedFile } from '../../core/index.js';
import {
  DerivativeMaker,
  derivativeDefinition,
  derivativeFilesAt,
} from '../../derivatives/index.js';
import { WorkOutbox } from '../../outbox/index.js';
import { attachmentOptionsOf, inTransaction, readColumnsNow } from '../../persistence/index.js';
import { DerivativeWriter, originalIn } from '../derivative-write.js';
import { FollowUps } from '../follow-ups.js';
import { WorkHandler } from './work-handler.js';

export type DeriveOutcome = 'made' | 'superseded' | 'undeclared';

/**
 * Makes one derivative of a stored original and merges it into the column's `derivatives` map
 * (for an element of a list, into that element's), only while the column still holds that
 * original. Its output lives under a folder named after the original, so a job that lost its
 * race (or died before cleaning up) can remove it by prefix without knowing the extension its
 * processor chose, and deleting the original deletes the folder. No database connection is
 * held while the processor runs.
 */
@Injectable()
export class DeriveHandler extends WorkHandler<DeriveJobData, DeriveOutcome> {
  constructor(
    private readonly config: AttachmentsConfig,
    outbox: WorkOutbox,
    private readonly maker: DerivativeMaker,
    private readonly writer: DerivativeWriter,
    private readonly followUps: FollowUps,
  ) {
    super(outbox);
  }

  protected async run(data: DeriveJobData): Promise<DeriveOutcome> {
    const { dataSource } = this.config;
    const entry = attachmentOptionsOf(dataSource, data.entity, data.attachment).derivatives?.[
      data.name
    ];
    if (!entry) {
      await this.finish(data); // no longer declared
      return 'undeclared';
    }
    const metadata = dataSource.getMetadata(data.entity);
    const values = await readColumnsNow(dataSource, metadata, data.recordId, [data.attachment]);
    if (!originalIn(values?.[data.attachment], data)) return this.abandon(data);
    await this.config.step('derive:before-make', data);
    const processor = derivativeDefinition(entry).processor;
    const made = await this.maker.make(processor, data.original, data.target);
    if (!(await this.outbox.isPending(data.workId))) return this.afterLateOutput(data, made);
    await this.config.step('derive:before-write', data);
    const target = {
      ...data,
      followUpId: data.workId,
      end: (manager: EntityManager) => this.finish(data, manager),
    };
    const followUps = await inTransaction(dataSource, (runner) =>
      this.writer.write(runner, target, made),
    );
    if (!followUps) return this.abandon(data);
    await this.followUps.dispatch(followUps);
    return 'made';
  }

  /**
   * Another run ended this work while this one made its output (this run was paused past its
   * lock), and the original may have been deleted with its folder since: the output stays only
   * if the column names it. Checked before anything else can stop this run.
   */
  private async afterLateOutput(data: DeriveJobData, made: UploadedFile): Promise<DeriveOutcome> {
    const metadata = this.config.dataSource.getMetadata(data.entity);
    const values = await readColumnsNow(this.config.dataSource, metadata, data.recordId, [
      data.attachment,
    ]);
    const named = originalIn(values?.[data.attachment], data)?.derivatives?.[data.name];
    if (named && sameFile(named, made)) return 'made';
    await this.config.storage(made.storage).delete(made.id);
    return 'superseded';
  }

  /**
   * The record moved on: remove whatever this derivative left at its stem, and nothing of
   * another derivative of the same original (the original's deletion takes those).
   */
  private async abandon(data: DeriveJobData): Promise<DeriveOutcome> {
    const storage = this.config.storage(data.target.storage);
    await storage.deleteMany(await derivativeFilesAt(storage, data.target.stem));
    await this.finish(data);
    return 'superseded';
  }
}
