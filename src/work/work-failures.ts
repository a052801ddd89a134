import { Injectable } from '@nestjs/common';
import { AttachmentsConfig } from '../config/index.js';
import { listOf } from '../core/index.js';
import { readAttachmentColumns, inTransaction } from '../persistence/index.js';
import { EventDelivery } from './event-delivery.js';
import { AttachmentWork, listPromotedEvent, listSettled, WorkOutbox } from '../outbox/index.js';
import { NotifyHandler } from './handlers/notify.handler.js';

export interface FailureReport {
  attempts: number;
  /** The error's stack, or its message. */
  error: string;
  /** The job's name (its kind), for the `failed` event. */
  job: string;
}

/**
 * Records that work failed for good: its row turns `failed` (the app lists and retries it
 * there), and the `failed` event, and the `listPromoted` event when this was the last file of a
 * list still waiting, are recorded in the same transaction and then delivered. Called by the
 * worker at a job's last attempt, and by the relay for failures that never reached the worker
 * (a job BullMQ failed for stalling too often, or a worker that could not reach the database).
 */
@Injectable()
export class WorkFailures {
  constructor(
    private readonly config: AttachmentsConfig,
    private readonly outbox: WorkOutbox,
    private readonly events: EventDelivery,
    private readonly notify: NotifyHandler,
  ) {}

  /** Returns false when the work was no longer pending (done, or recorded already). */
  async record(workId: string, report: FailureReport): Promise<boolean> {
    const dataSource = this.config.dataSource;
    const work = await dataSource.getRepository(AttachmentWork).findOneBy({ id: workId });
    if (!work || work.status !== 'pending') return false;
    const notifications = await inTransaction(dataSource, async (runner) => {
      const payload = work.payload;
      let list = null;
      if (payload.kind === 'promote' && payload.inList) {
        // Locked first, as a promotion's write locks it before it ends its row.
        const metadata = dataSource.getMetadata(payload.entity);
        const values = await readAttachmentColumns(
          runner,
          metadata,
          payload.recordId,
          [payload.attachment],
          { lock: true },
        );
        list = values && listOf(values[payload.attachment]);
      }
      const marked = await runner.manager.getRepository(AttachmentWork).update(
        { id: workId, status: 'pending' },
        {
          status: 'failed',
          attempts: report.attempts,
          lastError: report.error.slice(0, 4000),
          failedAt: Date.now(),
        },
      );
      if (!marked.affected) return null;
      const rows: AttachmentWork[] = [];
      const target = 'attachment' in payload && 'recordId' in payload ? payload : null;
      if (this.events.wants('failed', work.entity, target?.attachment ?? null)) {
        rows.push(
          this.notify.row({
            type: 'failed',
            id: `${workId}.failed`,
            job: report.job,
            workId,
            entity: work.entity,
            recordId: target?.recordId ?? null,
            attachment: target?.attachment ?? null,
            attempts: report.attempts,
            error: report.error,
          }),
        );
      }
      if (target && list && (await listSettled(runner.manager, list, this.config.cacheStorage))) {
        rows.push(this.notify.row(listPromotedEvent(`${workId}.listPromoted`, target, list)));
      }
      await this.outbox.record(runner.manager, rows, { once: true });
      return rows;
    });
    if (!notifications) return false;
    await this.notify.deliver(notifications);
    return true;
  }
}
