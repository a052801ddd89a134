export { OpenTelemetry, OPEN_TELEMETRY_PROVIDER, type OpenTelemetryApi } from './opentelemetry.js';
export { AttachmentMetrics, METER_NAME, type JobOutcome, type WorkTally } from './metrics.js';
export {
  Tracing,
  carrierOf,
  recordIdAttribute,
  type SpanAttributes,
  type SpanOptions,
  type TracedSpan,
} from './tracing.js';
