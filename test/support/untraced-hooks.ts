/**
 * Preloaded (`node --import`) before anything else: makes `@opentelemetry/api` and
 * `bullmq-otel` unresolvable, and logs every package asked for to ATTEMPTS_LOG. The logger is
 * registered last, so it runs first and sees the hidden packages being asked for.
 */
import { register } from 'node:module';
import { hidePackages } from './hidden-packages.js';

hidePackages(['@opentelemetry/api', 'bullmq-otel']);
register(new URL('./record-attempts.js', import.meta.url));
