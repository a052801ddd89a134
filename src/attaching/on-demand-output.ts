import { createHash } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import type { EntityMetadata } from 'typeorm';
import { AttachmentsConfig } from '../config/index.js';
import type { UploadedFile } from '../core/index.js';
import {
  DerivativeMaker,
  derivativeFilesAt,
  type DerivativeProcessorRef,
} from '../derivatives/index.js';
import type { AttachmentWork } from '../outbox/index.js';
import { inTransaction, readAttachmentColumns } from '../persistence/index.js';
import { DerivativeWriter, FollowUps, originalIn } from '../work/index.js';
import { DerivativeBusyError, DerivativeNotFoundError } from './on-demand-errors.js';

/** Which derivative of which stored original, on which record, one making is for. */
export interface OnDemandTarget {
  metadata: EntityMetadata;
  recordId: Record<string, unknown>;
  attachment: string;
  name: string;
  original: UploadedFile;
  /** `derivativeStem(original, name)`: the file is `<stem>.<extension>`. */
  stem: string;
  /** The original is an element of an `@Attachments()` list. */
  inList?: boolean;
}

/**
 * One making of an on-demand derivative, from the processor to the column: made at the stem,
 * written with DerivativeWriter's locked, conditional merge, its follow-up work sent. Whatever
 * stops it before the write commits (a failing processor, a record that moved on, a making
 * that ran out of time) leaves nothing under the stem but what the column names.
 */
@Injectable()
export class OnDemandOutput {
  private readonly logger = new Logger('Attachments');

  constructor(
    private readonly config: AttachmentsConfig,
    private readonly maker: DerivativeMaker,
    private readonly writer: DerivativeWriter,
    private readonly followUps: FollowUps,
  ) {}

  /** The derivative, written; null when `gaveUp()` says its requests were answered already. */
  async make(
    processor: DerivativeProcessorRef,
    target: OnDemandTarget,
    gaveUp: () => boolean,
  ): Promise<UploadedFile | null> {
    let written: AttachmentWork[] | null = null;
    try {
      const made = await this.maker.make(processor, target.original, {
        storage: target.original.storage,
        stem: target.stem,
      });
      if (gaveUp()) return null;
      written = await this.write(target, made);
      if (!written) {
        throw new DerivativeNotFoundError(
          'The record no longer holds the file this derivative URL was made for',
        );
      }
      await this.followUps.dispatch(written).catch((error: unknown) => {
        // Committed rows: the relay sends them.
        this.logger.warn(`On-demand derivative follow-ups left to the relay: ${error}`);
      });
      return made;
    } finally {
      if (!written) await this.removeLeftovers(target);
    }
  }

  /**
   * The merge, in a transaction that also checks the file is still there: a making of another
   * process that failed may have removed the same file under the row lock before this write
   * took it, and the column must never name a file that is gone.
   */
  private write(target: OnDemandTarget, made: UploadedFile): Promise<AttachmentWork[] | null> {
    const writeTarget = {
      entity: target.metadata.name,
      recordId: target.recordId,
      attachment: target.attachment,
      original: target.original,
      inList: target.inList,
      name: target.name,
      followUpId: followUpId(target.original, target.name),
    };
    const storage = this.config.storage(made.storage);
    return inTransaction(this.config.dataSource, async (runner) => {
      const rows = await this.writer.write(runner, writeTarget, made);
      if (rows && !(await storage.stat(made.id))) {
        throw new DerivativeBusyError('The derivative was removed while it was written', 1);
      }
      return rows;
    });
  }

  /**
   * Deletes what is under the stem but the file the column names, under the row lock, so a
   * write of the same derivative by another process either came first (and is kept) or waits.
   */
  private async removeLeftovers(target: OnDemandTarget): Promise<void> {
    const storage = this.config.storage(target.original.storage);
    try {
      await inTransaction(this.config.dataSource, async (runner) => {
        const values = await readAttachmentColumns(
          runner,
          target.metadata,
          target.recordId,
          [target.attachment],
          { lock: true },
        );
        const named = originalIn(values?.[target.attachment], target)?.derivatives?.[target.name]
          ?.id;
        const leftovers = (await derivativeFilesAt(storage, target.stem)).filter(
          (id) => id !== named,
        );
        if (leftovers.length > 0) await storage.deleteMany(leftovers);
      });
    } catch (error) {
      this.logger.error(`Could not remove an on-demand derivative's leftovers: ${error}`);
    }
  }
}

/**
 * Prefix of the ids of the work a write records: derived from the original and the name, so a
 * repeated write records each once. Hashed to fit the outbox's 64-character ids (with the
 * writer's suffixes), in characters BullMQ takes in a job id.
 */
function followUpId(original: UploadedFile, name: string): string {
  const hash = createHash('sha256')
    .update(JSON.stringify([original.storage, original.id, name]))
    .digest('hex');
  return `ondemand.${hash.slice(0, 32)}`;
}
