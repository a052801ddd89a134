import { Injectable } from '@nestjs/common';
import type { AttachmentWork } from '../outbox/index.js';
import { WorkOutbox } from '../outbox/index.js';
import { NotifyHandler } from './handlers/notify.handler.js';

/** Rows of several jobs that go to the queue in one send. */
interface Batch {
  rows: AttachmentWork[];
  sent: Promise<boolean>;
}

/**
 * What a job does with the rows its transaction recorded, once it committed: work for the
 * queue is sent, events are delivered here and now. A crash in between loses nothing: the rows
 * are committed, and the relay sends them.
 */
@Injectable()
export class FollowUps {
  /** The send under way (or the last one), which the next batch waits for. */
  private inFlight: Promise<boolean> = Promise.resolve(true);
  /** The batch still taking rows: it is sent once the send under way has ended. */
  private open?: Batch;

  constructor(
    private readonly outbox: WorkOutbox,
    private readonly notify: NotifyHandler,
  ) {}

  async dispatch(rows: readonly AttachmentWork[]): Promise<void> {
    await this.send(rows.filter((row) => row.kind !== 'notify'));
    await this.notify.deliver(rows);
  }

  /**
   * Sends the rows; resolves once the queue has them (or the send gave up, leaving them to the
   * relay). One send is under way at a time: the rows of jobs that end meanwhile wait for it and
   * then go together, so at high concurrency one round trip to Redis carries the follow-ups of
   * many jobs, and no job waits for more than the send before its own.
   */
  private send(rows: readonly AttachmentWork[]): Promise<boolean> {
    if (rows.length === 0) return Promise.resolve(true);
    if (this.open) {
      this.open.rows.push(...rows);
      return this.open.sent;
    }
    const batch: Batch = { rows: [...rows], sent: Promise.resolve(true) };
    const start = () => {
      if (this.open === batch) this.open = undefined; // later rows make the next batch
      return this.outbox.send(batch.rows);
    };
    // A failed send fails its own jobs only; the next batch goes all the same.
    batch.sent = this.inFlight.then(start, start);
    this.open = batch;
    this.inFlight = batch.sent;
    return batch.sent;
  }
}
