import { Injectable, Logger } from '@nestjs/common';
import { AttachmentsConfig } from '../config/index.js';
import type { AttachmentEvent } from '../core/index.js';
import { AttachmentEvents } from '../events/index.js';
import { attachmentOf, type AttachmentCallbacks } from '../persistence/index.js';

const CALLBACK_OF = {
  promoted: 'afterUpload',
  listPromoted: 'afterAllUploads',
  failed: 'onError',
} as const;

/**
 * Hands the events of background work to the stream and to the attachment's callbacks, which
 * get the record as it is now. A callback that throws is logged and never fails the job.
 */
@Injectable()
export class EventDelivery {
  private readonly logger = new Logger('Attachments');

  constructor(
    private readonly config: AttachmentsConfig,
    private readonly events: AttachmentEvents,
  ) {}

  /**
   * Whether anything in this process would receive an event of this type about this attachment:
   * a subscriber of `events$`, or the attachment's callback. Work that nobody listens to records
   * no delivery row.
   */
  wants(type: AttachmentEvent['type'], entity: string | null, attachment: string | null): boolean {
    if (this.events.observed) return true;
    const callback = CALLBACK_OF[type as keyof typeof CALLBACK_OF];
    if (!callback || !entity || !attachment) return false;
    return !!this.callbacksOf(entity, attachment)[callback];
  }

  async deliver(event: AttachmentEvent): Promise<void> {
    this.events.emit(event);
    try {
      await this.callback(event);
    } catch (error) {
      this.logger.error(`An attachment callback threw on "${event.type}": ${String(error)}`);
    }
  }

  private callbacksOf(entity: string, attachment: string): AttachmentCallbacks {
    const metadata = this.config.dataSource.getMetadata(entity);
    return attachmentOf(metadata.target, attachment)?.options ?? {};
  }

  private async callback(event: AttachmentEvent): Promise<void> {
    if (event.type !== 'promoted' && event.type !== 'listPromoted' && event.type !== 'failed') {
      return;
    }
    const { entity: name, recordId, attachment } = event;
    if (!name || !attachment) return;
    const callbacks = this.callbacksOf(name, attachment);
    if (!callbacks[CALLBACK_OF[event.type]]) return;
    const metadata = this.config.dataSource.getMetadata(name);
    const entity = recordId
      ? await this.config.dataSource.getRepository(metadata.target).findOneBy(recordId)
      : null;
    if (event.type === 'promoted')
      await callbacks.afterUpload?.({ entity, attachment, file: event.file });
    else if (event.type === 'listPromoted') {
      await callbacks.afterAllUploads?.({ entity, attachment, files: event.files });
    } else await callbacks.onError?.({ entity, attachment, error: event.error, job: event.job });
  }
}
