import type { SweepJobData, WorkJobData } from '../core/index.js';
import { recordIdAttribute, type SpanAttributes, type Tracing } from '../telemetry/index.js';

/** What a job's span says of its work, read from the job's data alone. */
function attributesOf(data: WorkJobData | SweepJobData): SpanAttributes {
  switch (data.kind) {
    case 'promote':
      return {
        'attachments.entity': data.entity,
        'attachments.record_id': recordIdAttribute(data.recordId),
        'attachments.attachment': data.attachment,
        'attachments.storage': data.target.storage,
      };
    case 'derive':
      return {
        'attachments.entity': data.entity,
        'attachments.record_id': recordIdAttribute(data.recordId),
        'attachments.attachment': data.attachment,
        'attachments.storage': data.target.storage,
        'attachments.derivative': data.name,
      };
    case 'delete': {
      const storages = new Set(
        [...data.files, ...(data.folders ?? [])].map((file) => file.storage),
      );
      return {
        'attachments.storage': [...storages].join(','),
        'attachments.files': data.files.length,
        'attachments.reason': data.reason,
      };
    }
    case 'notify':
      return { 'attachments.event': data.event.type };
    default:
      return {};
  }
}

/**
 * Runs a job in a span of its own (`attachments.promote`, `attachments.derive`, ...), in the
 * trace that was active when its work was recorded; the outcome ends up on the span.
 */
export function traceJob<T>(
  tracing: Tracing,
  data: WorkJobData | SweepJobData,
  run: () => Promise<T>,
): Promise<T> {
  const carrier = data.kind === 'sweep' ? undefined : data.trace;
  return tracing.withContext(carrier, () =>
    tracing.inSpan(
      `attachments.${data.kind}`,
      { ...attributesOf(data), 'attachments.work_id': 'workId' in data ? data.workId : undefined },
      async (span) => {
        const outcome = await run();
        if (typeof outcome === 'string') span.set({ 'attachments.outcome': outcome });
        return outcome;
      },
      { kind: 'consumer' },
    ),
  );
}
