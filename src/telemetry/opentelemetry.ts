import type * as OpenTelemetryModule from '@opentelemetry/api';
import { isMissingPackage } from '../core/index.js';

/** `@opentelemetry/api`, an optional peer: its types never reach the public declarations. */
export type OpenTelemetryApi = typeof OpenTelemetryModule;

/**
 * The app's `@opentelemetry/api`, or null when it is not installed. Loaded once, when the module
 * starts, so that an app without it loads nothing and every instrumented step is a plain call.
 */
export class OpenTelemetry {
  private constructor(readonly api: OpenTelemetryApi | null) {}

  static async load(): Promise<OpenTelemetry> {
    try {
      return new OpenTelemetry(await import('@opentelemetry/api'));
    } catch (error) {
      if (isMissingPackage(error)) return new OpenTelemetry(null);
      throw error;
    }
  }

  /** Without `@opentelemetry/api`: what a process that lacks it sees, for tests. */
  static absent(): OpenTelemetry {
    return new OpenTelemetry(null);
  }
}

/** The module's provider of the loaded API. */
export const OPEN_TELEMETRY_PROVIDER = { provide: OpenTelemetry, useFactory: OpenTelemetry.load };
