import { Injectable } from '@nestjs/common';
import type { AttachmentEvent, DurableEvent, NotifyJobData } from '../../core/index.js';
import { WorkOutbox, type AttachmentWork } from '../../outbox/index.js';
import { EventDelivery } from '../event-delivery.js';
import { WorkHandler } from './work-handler.js';

/**
 * Delivers events of background work at least once. The job that causes an event records it
 * as an outbox row in the same transaction as its write, then delivers it at once and deletes
 * the row; if the process dies in between, the relay sends the row as a job of its own, which
 * this handler runs.
 */
@Injectable()
export class NotifyHandler extends WorkHandler<NotifyJobData, 'delivered'> {
  constructor(
    outbox: WorkOutbox,
    private readonly events: EventDelivery,
  ) {
    super(outbox);
  }

  /** The outbox row that carries `event`; its id is the event's, so recording it twice is once. */
  row(event: DurableEvent): AttachmentWork {
    const target = 'recordId' in event && event.recordId ? event : undefined;
    return this.outbox.create(
      { kind: 'notify', event },
      { id: event.id, entity: target?.entity ?? undefined, recordId: target?.recordId },
    );
  }

  /** Delivers rows this process just committed; other kinds of rows are left alone. */
  async deliver(rows: readonly AttachmentWork[]): Promise<void> {
    for (const row of rows) {
      if (row.payload.kind !== 'notify') continue;
      await this.events.deliver(delivered(row.payload.event));
      await this.outbox.finish([row.id]);
    }
  }

  protected async run(data: NotifyJobData): Promise<'delivered'> {
    await this.events.deliver(delivered(data.event));
    await this.finish(data);
    return 'delivered';
  }
}

/** The event as listeners get it: a recorded failure carries its error as an Error again. */
function delivered(event: DurableEvent): AttachmentEvent {
  if (event.type !== 'failed') return event;
  const [message = ''] = event.error.split('\n');
  const error = new Error(message.replace(/^\w*Error: /, ''));
  error.stack = event.error;
  return { ...event, error };
}
