import { Injectable } from '@nestjs/common';
import type { Attributes, Context, SpanContext } from '@opentelemetry/api';
import type { TraceCarrier } from '../core/index.js';
import { OpenTelemetry, type OpenTelemetryApi } from './opentelemetry.js';

/** The tracer's name: what a backend shows as the spans' instrumentation scope. */
const TRACER = 'nestjs-attachments';

export type SpanAttributes = Record<string, string | number | boolean | undefined>;

/** The span a traced step runs in, for attributes known only once the step is under way. */
export interface TracedSpan {
  set(attributes: SpanAttributes): void;
}

export interface SpanOptions {
  /** `consumer` for a job's span, `internal` (the default) for any other step. */
  kind?: 'internal' | 'consumer';
  /**
   * A caller's context (an HTTP request's `traceparent`), continued only when no span is active:
   * an app with HTTP instrumentation has already made the request's span.
   */
  remote?: TraceCarrier;
}

const NO_SPAN: TracedSpan = { set: () => undefined };
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * Spans around the module's steps, and the W3C trace context that work carries through the
 * outbox. Without `@opentelemetry/api` every method only calls through: nothing is made, and
 * nothing is recorded in the work.
 */
@Injectable()
export class Tracing {
  constructor(private readonly telemetry: OpenTelemetry) {}

  /**
   * Runs `fn` in a new span, a child of the active one. An error thrown is recorded on the span,
   * whose status is then ERROR, and thrown again.
   */
  inSpan<T>(
    name: string,
    attributes: SpanAttributes,
    fn: (span: TracedSpan) => Promise<T>,
    options: SpanOptions = {},
  ): Promise<T> {
    const api = this.telemetry.api;
    if (!api) return fn(NO_SPAN);
    const active = api.context.active();
    const remote =
      options.remote && !api.trace.getSpan(active) ? contextOf(api, options.remote) : null;
    const kind = options.kind === 'consumer' ? api.SpanKind.CONSUMER : api.SpanKind.INTERNAL;
    const tracer = api.trace.getTracer(TRACER);
    return tracer.startActiveSpan(
      name,
      { kind, attributes: defined(attributes) },
      remote ?? active,
      async (span) => {
        try {
          return await fn({ set: (more) => span.setAttributes(defined(more)) });
        } catch (error) {
          span.recordException(error instanceof Error ? error : String(error));
          span.setStatus({
            code: api.SpanStatusCode.ERROR,
            message: error instanceof Error ? error.message : String(error),
          });
          throw error;
        } finally {
          span.end();
        }
      },
    );
  }

  /** The active trace context, to store with work recorded now; undefined when there is none. */
  captureContext(): TraceCarrier | undefined {
    const api = this.telemetry.api;
    const span = api?.trace.getSpanContext(api.context.active());
    if (!api || !span || !api.isSpanContextValid(span)) return undefined;
    const flags = (span.traceFlags & 0xff).toString(16).padStart(2, '0');
    const tracestate = span.traceState?.serialize();
    return {
      traceparent: `00-${span.traceId}-${span.spanId}-${flags}`,
      ...(tracestate ? { tracestate } : {}),
    };
  }

  /**
   * Runs `fn` in the context a carrier names, in place of whatever is active: a job continues
   * the trace of the change that recorded it, and work recorded without one starts a trace.
   */
  withContext<T>(carrier: TraceCarrier | undefined, fn: () => T): T {
    const api = this.telemetry.api;
    if (!api) return fn();
    const context = (carrier && contextOf(api, carrier)) ?? api.ROOT_CONTEXT;
    return api.context.with(context, fn);
  }
}

/** The remote context of a W3C carrier, or null when its traceparent is not valid. */
function contextOf(api: OpenTelemetryApi, carrier: TraceCarrier): Context | null {
  const match = TRACEPARENT.exec(carrier.traceparent.trim().toLowerCase());
  // Version ff is forbidden; version 00 has nothing after the flags.
  if (!match || match[1] === 'ff' || (match[1] === '00' && match[5])) return null;
  const span: SpanContext = {
    traceId: match[2]!,
    spanId: match[3]!,
    traceFlags: parseInt(match[4]!, 16) & 1,
    isRemote: true,
    ...(carrier.tracestate ? { traceState: api.createTraceState(carrier.tracestate) } : {}),
  };
  return api.isSpanContextValid(span) ? api.trace.setSpanContext(api.ROOT_CONTEXT, span) : null;
}

function defined(attributes: SpanAttributes): Attributes {
  return Object.fromEntries(Object.entries(attributes).filter(([, value]) => value !== undefined));
}

/** A carrier made of an HTTP request's headers, when they carry a `traceparent`. */
export function carrierOf(headers: Record<string, string | string[] | undefined>) {
  const [traceparent] = [headers.traceparent].flat();
  if (!traceparent) return undefined;
  const tracestate = [headers.tracestate].flat().filter(Boolean).join(',');
  return { traceparent, ...(tracestate ? { tracestate } : {}) } satisfies TraceCarrier;
}

/** A record's primary key as a span attribute: the value of a one-column key, else its JSON. */
export function recordIdAttribute(id: Record<string, unknown> | null | undefined) {
  if (!id) return undefined;
  const values = Object.values(id);
  const [only] = values;
  if (values.length === 1 && (typeof only === 'string' || typeof only === 'number')) return only;
  return JSON.stringify(id);
}
