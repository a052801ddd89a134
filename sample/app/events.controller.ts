import { Controller, Sse, type MessageEvent } from '@nestjs/common';
import { filter, map, type Observable } from 'rxjs';
import { AttachmentEvents, type AttachmentEvent } from '../../src/index.js';

/** The entities of the sample: the stream leaves out the events of any other. */
const SAMPLE_ENTITIES = new Set(['Photo', 'Album']);

/** One step of a file's way, as the page gets it. */
export interface PipelineMessage {
  type: Exclude<AttachmentEvent['type'], 'cached'>;
  entity: string;
  /** The record's id; null for a deletion whose record is gone. */
  recordId: number | null;
  attachment: string | null;
  /** The derivative's name (`derivative`). */
  derivative?: string;
  /** Why the files went (`deleted`): `promoted` for the cached copy of a stored file. */
  reason?: string;
  /** Ids of the files the step is about: the cached id first for `promoted`. */
  files: string[];
  /** The last error (`failed`). */
  error?: string;
}

/**
 * Server-sent events of the attachments' lifecycle: GET /events. The page subscribes once and
 * draws each photo's timeline from them. The workers run in this process, so it sees every
 * step; a separate worker process would need a broker in between.
 */
@Controller('events')
export class EventsController {
  constructor(private readonly events: AttachmentEvents) {}

  @Sse()
  stream(): Observable<MessageEvent> {
    return this.events.events$.pipe(
      map(toMessage),
      filter((message) => message !== null),
      map((message) => ({ data: message })),
    );
  }
}

function toMessage(event: AttachmentEvent): PipelineMessage | null {
  if (event.type === 'cached' || !event.entity || !SAMPLE_ENTITIES.has(event.entity)) return null;
  const id = event.recordId?.id;
  const message: PipelineMessage = {
    type: event.type,
    entity: event.entity,
    recordId: typeof id === 'number' ? id : null,
    attachment: 'attachment' in event ? event.attachment : null,
    files: [],
  };
  switch (event.type) {
    case 'attached':
      return { ...message, files: [event.file.id] };
    case 'promoted':
      return { ...message, files: [event.cached.id, event.file.id] };
    case 'listPromoted':
      return { ...message, files: event.files.map((file) => file.id) };
    case 'derivative':
      return { ...message, derivative: event.name, files: [event.original.id, event.file.id] };
    case 'deleted':
      return { ...message, reason: event.reason, files: event.files.map((file) => file.id) };
    case 'failed':
      return { ...message, error: event.error.message };
  }
}
