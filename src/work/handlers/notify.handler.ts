import { Injectable } from '@nestjs/common';
import type { AttachmentEvent, DurableEvent } from '../../core/attachment-event.js';
import { AttachmentEvents } from '../../events/attachment-events.js';
import type { AttachmentWork } from '../../outbox/attachment-work.entity.js';
import { WorkOutbox } from '../../outbox/work-outbox.service.js';
import type { NotifyPayload } from '../../core/work-payload.js';

/**
 * Delivers events of background work at least once. The job that causes an event records it
 * as an outbox row in the same transaction as its write, then delivers it at once and deletes
 * the row; if the process dies in between, the relay sends the row as a job of its own.
 */
@Injectable()
export class NotifyJob {
  constructor(
    private readonly outbox: WorkOutbox,
    private readonly events: AttachmentEvents,
  ) {}

  /** The outbox row that carries `event`; its id is the event's, so recording it twice is once. */
  row(event: DurableEvent): AttachmentWork {
    const target = 'recordId' in event && event.recordId ? event : undefined;
    return this.outbox.create(
      { kind: 'notify', event },
      { id: event.id, entity: target?.entity ?? undefined, recordId: target?.recordId },
    );
  }

  /** Delivers rows this process just committed. */
  async deliver(rows: readonly AttachmentWork[]): Promise<void> {
    for (const row of rows) {
      if (row.payload.kind !== 'notify') continue;
      await this.events.emit(delivered(row.payload.event));
      await this.outbox.finish([row.id]);
    }
  }

  /** The job the relay sends when the process that recorded the event did not deliver it. */
  async run(data: NotifyPayload & { workId: string }): Promise<boolean> {
    if (!(await this.outbox.pending(data.workId))) return false;
    await this.events.emit(delivered(data.event));
    await this.outbox.finish([data.workId]);
    return true;
  }
}

function delivered(event: DurableEvent): AttachmentEvent {
  if (event.type !== 'failed') return event;
  const [message = ''] = event.error.split('\n');
  const error = new Error(message.replace(/^\w*Error: /, ''));
  error.stack = event.error;
  return { ...event, error };
}
