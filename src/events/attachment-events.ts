import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';
import { AttachmentsConfig } from '../config/attachments-config.js';
import type { UploadedFile } from '../core/uploaded-file.js';
import type { AttachmentCallbacks } from '../persistence/attachment-options.js';
import { attachmentOf } from '../persistence/attachment-registry.js';
import type { AttachmentEvent } from '../core/attachment-event.js';

const CALLBACK_OF = {
  promoted: 'afterUpload',
  listPromoted: 'afterAllUploads',
  failed: 'onError',
} as const;

/**
 * The stream of everything that happens to attachments, in the process where it happens: web
 * processes see `cached` and `attached`, worker processes the job events. It also calls the
 * per-attachment callbacks. A listener that throws is logged and never fails the job.
 */
@Injectable()
export class AttachmentEvents implements OnModuleDestroy {
  private readonly logger = new Logger('Attachments');
  private readonly subject = new Subject<AttachmentEvent>();
  readonly events$: Observable<AttachmentEvent> = this.subject.asObservable();

  constructor(private readonly config: AttachmentsConfig) {}

  async emit(event: AttachmentEvent): Promise<void> {
    try {
      this.subject.next(event);
      await this.callback(event);
    } catch (error) {
      this.logger.error(`An attachment event listener threw on "${event.type}": ${String(error)}`);
    }
  }

  /**
   * Whether anything in this process would receive an event of this type about this attachment:
   * a subscriber of `events$`, or the attachment's callback. Work that nobody listens to records
   * no delivery row.
   */
  wants(type: AttachmentEvent['type'], entity: string | null, attachment: string | null): boolean {
    if (this.subject.observed) return true;
    const callback = CALLBACK_OF[type as keyof typeof CALLBACK_OF];
    if (!callback || !entity || !attachment) return false;
    const metadata = this.config.dataSource.getMetadata(entity);
    return !!attachmentOf(metadata.target, attachment)?.options[callback];
  }

  onModuleDestroy(): void {
    this.subject.complete();
  }

  private async callback(event: AttachmentEvent): Promise<void> {
    if (!('attachment' in event) || !event.entity || !event.attachment) return;
    const metadata = this.config.dataSource.getMetadata(event.entity);
    const callbacks: AttachmentCallbacks =
      attachmentOf(metadata.target, event.attachment)?.options ?? {};
    const call = async (
      run: (entity: object | null, file: UploadedFile | null) => unknown,
      file: UploadedFile | null,
    ) => {
      const entity = event.recordId
        ? await this.config.dataSource.getRepository(metadata.target).findOneBy(event.recordId)
        : null;
      await run(entity, file);
    };
    if (event.type === 'promoted' && callbacks.afterUpload) {
      const afterUpload = callbacks.afterUpload;
      await call(
        (entity, file) => afterUpload({ entity, attachment: event.attachment, file: file! }),
        event.file,
      );
    } else if (event.type === 'listPromoted' && callbacks.afterAllUploads) {
      const afterAll = callbacks.afterAllUploads;
      await call(
        (entity) => afterAll({ entity, attachment: event.attachment, files: event.files }),
        null,
      );
    } else if (event.type === 'failed' && callbacks.onError) {
      const onError = callbacks.onError;
      await call(
        (entity) =>
          onError({ entity, attachment: event.attachment!, error: event.error, job: event.job }),
        null,
      );
    }
  }
}
