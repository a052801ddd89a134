import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';
import type { AttachmentEvent } from '../core/index.js';

/**
 * The stream of everything that happens to attachments, in the process where it happens: web
 * processes see `cached` and `attached`, worker processes the events of background work. A
 * subscriber that throws is logged and never fails the step that emitted the event.
 */
@Injectable()
export class AttachmentEvents implements OnModuleDestroy {
  private readonly logger = new Logger('Attachments');
  private readonly subject = new Subject<AttachmentEvent>();
  readonly events$: Observable<AttachmentEvent> = this.subject.asObservable();

  emit(event: AttachmentEvent): void {
    try {
      this.subject.next(event);
    } catch (error) {
      this.logger.error(`An attachment event listener threw on "${event.type}": ${String(error)}`);
    }
  }

  /** Whether anything in this process subscribes to the stream. */
  get observed(): boolean {
    return this.subject.observed;
  }

  onModuleDestroy(): void {
    this.subject.complete();
  }
}
