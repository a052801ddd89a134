export { OpenTelemetry, OPEN_TELEMETRY_PROVIDER, type OpenTelemetryApi } from './opentelemetry.js';
export {
  Tracing,
  carrierOf,
  recordIdAttribute,
  type SpanAttributes,
  type SpanOptions,
  type TracedSpan,
} from './tracing.js';
