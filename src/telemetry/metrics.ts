import { performance } from 'node:perf_hooks';
import { Injectable, Logger } from '@nestjs/common';
import type {
  BatchObservableCallback,
  Counter,
  Histogram,
  Meter,
  ObservableGauge,
} from '@opentelemetry/api';
import type { WorkPayload } from '../core/index.js';
import { OpenTelemetry } from './opentelemetry.js';

/** The meter every instrument of the library comes from. */
export const METER_NAME = 'nestjs-attachments';

/** The kinds of outbox work the gauges report, each of them at every collection. */
export const WORK_KINDS: readonly WorkPayload['kind'][] = ['promote', 'derive', 'delete', 'notify'];

/** How a job run ended: done, failed for good, or failed with attempts left. */
export type JobOutcome = 'done' | 'failed' | 'retry';

/** Outbox work of one kind, as one collection counts it. */
export interface WorkTally {
  kind: string;
  pending: number;
  failed: number;
}

/**
 * Jobs last from milliseconds (a deletion) to minutes (a video's derivative): the SDK's
 * default boundaries are made for milliseconds and would put every job in one bucket.
 */
const DURATION_BOUNDARIES = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
];

interface Instruments {
  meter: Meter;
  jobDuration: Histogram;
  uploadBytes: Counter;
  uploadCount: Counter;
  pending: ObservableGauge;
  failed: ObservableGauge;
}

/**
 * The library's OpenTelemetry metrics. Without `@opentelemetry/api` every call returns at once.
 * The meter is taken from the global provider when the module starts: the API hands meters of
 * a provider registered later nothing, so the app starts its SDK before it creates the app.
 */
@Injectable()
export class AttachmentMetrics {
  private readonly logger = new Logger('Attachments');
  private readonly instruments: Instruments | null;

  constructor(telemetry: OpenTelemetry) {
    this.instruments = telemetry.api
      ? instrumentsOf(telemetry.api.metrics.getMeter(METER_NAME))
      : null;
  }

  /** Whether the metrics go anywhere: false when `@opentelemetry/api` is not installed. */
  get enabled(): boolean {
    return this.instruments !== null;
  }

  /** A clock for `jobEnded`, read only when the metrics are on. */
  startJob(): number {
    return this.instruments ? performance.now() : 0;
  }

  jobEnded(kind: string, outcome: JobOutcome, started: number): void {
    if (!this.instruments) return;
    this.instruments.jobDuration.record((performance.now() - started) / 1000, {
      'attachments.work.kind': kind,
      'attachments.job.outcome': outcome,
    });
  }

  /** A file now in the cache storage `storage`, measured at `bytes`, for `attachment` if known. */
  cached(storage: string, bytes: number, attachment?: { entity: string; property: string }): void {
    if (!this.instruments) return;
    const attributes = {
      'attachments.storage': storage,
      ...(attachment
        ? { 'attachments.entity': attachment.entity, 'attachments.attachment': attachment.property }
        : {}),
    };
    this.instruments.uploadBytes.add(bytes, attributes);
    this.instruments.uploadCount.add(1, attributes);
  }

  /**
   * Reports the outbox gauges from `read`, called once per collection of a reader (never when
   * nothing collects). A read that fails reports nothing that time and is not thrown into the
   * SDK; a run of failures is logged once, at its start. Returns what stops the reports.
   */
  observeWork(read: () => Promise<WorkTally[]>): () => void {
    const instruments = this.instruments;
    if (!instruments) return () => undefined;
    let failing = false;
    const callback: BatchObservableCallback = async (result) => {
      let tallies: WorkTally[];
      try {
        tallies = await read();
      } catch (error) {
        if (!failing) this.logger.warn(`Could not count the outbox for metrics: ${String(error)}`);
        failing = true;
        return;
      }
      failing = false;
      const byKind = new Map(tallies.map((tally) => [tally.kind, tally]));
      for (const kind of new Set([...WORK_KINDS, ...byKind.keys()])) {
        const attributes = { 'attachments.work.kind': kind };
        result.observe(instruments.pending, byKind.get(kind)?.pending ?? 0, attributes);
        result.observe(instruments.failed, byKind.get(kind)?.failed ?? 0, attributes);
      }
    };
    const observables = [instruments.pending, instruments.failed];
    instruments.meter.addBatchObservableCallback(callback, observables);
    return () => instruments.meter.removeBatchObservableCallback(callback, observables);
  }
}

function instrumentsOf(meter: Meter): Instruments {
  return {
    meter,
    jobDuration: meter.createHistogram('attachments.job.duration', {
      unit: 's',
      description: 'How long a background job of the attachments ran, by kind and outcome',
      advice: { explicitBucketBoundaries: DURATION_BOUNDARIES },
    }),
    uploadBytes: meter.createCounter('attachments.upload.bytes', {
      unit: 'By',
      description: 'Bytes of the files streamed into the cache storage',
    }),
    uploadCount: meter.createCounter('attachments.upload.count', {
      unit: '{file}',
      description: 'Files streamed into the cache storage',
    }),
    pending: workGauge(meter, 'attachments.work.pending', 'Outbox work not finished yet'),
    failed: workGauge(
      meter,
      'attachments.work.failed',
      'Outbox work that failed for good and waits for a retry',
    ),
  };
}

function workGauge(meter: Meter, name: string, what: string): ObservableGauge {
  return meter.createObservableGauge(name, { unit: '{work}', description: `${what}, by kind` });
}
