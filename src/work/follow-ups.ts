import { Injectable } from '@nestjs/common';
import type { AttachmentWork } from '../outbox/index.js';
import { WorkOutbox } from '../outbox/index.js';
import { NotifyHandler } from './handlers/notify.handler.js';

/**
 * What a job does with the rows its transaction recorded, once it committed: work for the
 * queue is sent, events are delivered here and now. A crash in between loses nothing: the rows
 * are committed, and the relay sends them.
 */
@Injectable()
export class FollowUps {
  constructor(
    private readonly outbox: WorkOutbox,
    private readonly notify: NotifyHandler,
  ) {}

  async dispatch(rows: readonly AttachmentWork[]): Promise<void> {
    await this.outbox.send(rows.filter((row) => row.kind !== 'notify'));
    await this.notify.deliver(rows);
  }
}
