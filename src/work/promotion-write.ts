import { Inject, Injectable } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import { AttachmentsConfig } from '../config/index.js';
import { sameFile, type UploadedFile, listOf, type PromoteJobData } from '../core/index.js';
import { derivativeDefinition } from '../derivatives/index.js';
import {
  attachmentOf,
  replaceListElement,
  compareAndSetAttachment,
  readAttachmentColumns,
  inTransaction,
} from '../persistence/index.js';
import { EventDelivery } from './event-delivery.js';
import {
  type AttachmentWork,
  listPromotedEvent,
  listSettled,
  WorkOutbox,
} from '../outbox/index.js';
import { derivePayload } from './derive-payload.js';
import { NotifyHandler } from './handlers/notify.handler.js';
import { isTargetOf } from './promotion-target.js';
import { Tracing } from '../telemetry/index.js';

export interface PromotionWrite {
  /**
   * `written`: this run pointed the record at the stored file. `done`: the record already
   * pointed at it (another run of this work wrote it). `superseded`: the record is gone or holds
   * another file.
   */
  outcome: 'written' | 'done' | 'superseded';
  /** Work this write recorded in its transaction: to send, and events to deliver. */
  followUps: AttachmentWork[];
}

/**
 * The one transaction of a promotion: the conditional write of the column, the end of the
 * promotion's outbox row, and the rows of what follows (the cached copy's deletion, derivative
 * jobs, events), all committed together or not at all. A run that finds the column already
 * holding its target re-reads it under the lock and takes that as done, so a redelivered job
 * never deletes a file the record names.
 */
@Injectable()
export class PromotionWriter {
  /** Injected as a property, so that the declarations never name OpenTelemetry's types. */
  @Inject(Tracing) private readonly tracing!: Tracing;

  constructor(
    private readonly config: AttachmentsConfig,
    private readonly outbox: WorkOutbox,
    private readonly events: EventDelivery,
    private readonly notify: NotifyHandler,
  ) {}

  write(data: PromoteJobData, stored: UploadedFile): Promise<PromotionWrite> {
    const attributes = {
      'attachments.entity': data.entity,
      'attachments.attachment': data.attachment,
    };
    return this.tracing.inSpan('attachments.write', attributes, async (span) => {
      const written = await inTransaction(this.config.dataSource, (runner) =>
        data.inList
          ? this.writeElement(runner, data, stored)
          : this.writeSingle(runner, data, stored),
      );
      span.set({ 'attachments.outcome': written.outcome });
      return written;
    });
  }

  private async writeSingle(
    runner: QueryRunner,
    data: PromoteJobData,
    stored: UploadedFile,
  ): Promise<PromotionWrite> {
    const metadata = this.config.dataSource.getMetadata(data.entity);
    const { recordId, attachment } = data;
    const written = await compareAndSetAttachment(
      runner,
      metadata,
      recordId,
      attachment,
      data.file,
      stored,
    );
    let current = stored;
    if (!written) {
      // The UPDATE waited for any write in flight on the row: this read sees what won.
      const values = await readAttachmentColumns(runner, metadata, recordId, [attachment]);
      const held = values?.[attachment];
      if (!held || !isTargetOf(held, data)) return { outcome: 'superseded', followUps: [] };
      current = held;
    }
    return this.finish(runner, data, current, written, []);
  }

  private async writeElement(
    runner: QueryRunner,
    data: PromoteJobData,
    stored: UploadedFile,
  ): Promise<PromotionWrite> {
    const metadata = this.config.dataSource.getMetadata(data.entity);
    const { recordId, attachment } = data;
    const values = await readAttachmentColumns(runner, metadata, recordId, [attachment], {
      lock: true,
    });
    const list = listOf(values?.[attachment]);
    const ours = list.find((file) => file.source === data.file.id && isTargetOf(file, data));
    let written = false;
    if (!ours) {
      if (!list.some((file) => sameFile(file, data.file))) {
        return { outcome: 'superseded', followUps: [] };
      }
      written = await replaceListElement(runner, metadata, recordId, attachment, data.file, stored);
    }
    const after = list.map((file) => (sameFile(file, data.file) ? stored : file));
    return this.finish(runner, data, ours ?? stored, written, after);
  }

  /**
   * Ends the promotion's row and records what follows, once: by the run that wrote, or by the
   * first run to find the row still there after an earlier run wrote and died.
   */
  private async finish(
    runner: QueryRunner,
    data: PromoteJobData,
    stored: UploadedFile,
    written: boolean,
    list: UploadedFile[],
  ): Promise<PromotionWrite> {
    if (written && !data.inList) {
      // This run wrote: it ends the row and records what follows whatever the row's state.
      const followUps = this.followUps(data, stored);
      await this.outbox.finishAndRecord(runner.manager, [data.workId], followUps, { once: true });
      return { outcome: 'written', followUps };
    }
    const ended = await this.outbox.finish([data.workId], runner.manager);
    if (!written && ended === 0) return { outcome: 'done', followUps: [] };
    const followUps = this.followUps(data, stored);
    if (data.inList && (await listSettled(runner.manager, list, this.config.cacheStorage))) {
      const id = `${data.workId}.listPromoted`;
      followUps.push(this.notify.row(listPromotedEvent(id, data, list)));
    }
    await this.outbox.record(runner.manager, followUps, { once: true });
    return { outcome: written ? 'written' : 'done', followUps };
  }

  /**
   * The cached copy is deleted after a grace period (pages rendered during promotion still
   * show its URL), each background derivative gets a job, and listeners hear of the promotion.
   * Ids derive from the promotion's, so a retried promotion records each of them once (a list's
   * elements each have a promotion of their own, so their ids never meet).
   */
  private followUps(data: PromoteJobData, stored: UploadedFile): AttachmentWork[] {
    const { entity, recordId, attachment, workId } = data;
    const options = { entity, recordId };
    const work = [
      this.outbox.create(
        {
          kind: 'delete',
          reason: 'promoted',
          files: [{ storage: data.file.storage, id: data.file.id }],
        },
        { ...options, id: `${workId}.cached`, delay: this.config.cacheDeleteDelay },
      ),
    ];
    const metadata = this.config.dataSource.getMetadata(entity);
    const declared = attachmentOf(metadata.target, attachment)?.options.derivatives ?? {};
    for (const [name, entry] of Object.entries(declared)) {
      const { duringPromotion, onDemand } = derivativeDefinition(entry);
      // On-demand derivatives wait for their first request, through their signed URL.
      if (duringPromotion || onDemand || stored.derivatives?.[name]) continue;
      const payload = derivePayload(entity, recordId, attachment, stored, name, data.inList);
      work.push(this.outbox.create(payload, { ...options, id: `${workId}.derive.${name}` }));
    }
    if (this.events.wants('promoted', entity, attachment)) {
      const id = `${workId}.promoted`;
      work.push(
        this.notify.row({
          type: 'promoted',
          id,
          entity,
          recordId,
          attachment,
          file: stored,
          cached: data.file,
        }),
      );
    }
    return work;
  }
}
