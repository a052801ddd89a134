export { OpenTelemetry, OPEN_TELEMETRY_PROVIDER, type OpenTelemetryApi } from './opentelemetry.js';
