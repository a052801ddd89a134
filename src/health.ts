/**
 * nestjs-attachments/health: a health indicator for `@nestjs/terminus`, an optional peer that
 * only this entry point loads.
 */
import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { AttachmentsHealth, type AttachmentsHealthReport } from './work/index.js';

/** When the indicator reports the attachments down, besides an unreachable dependency. */
export interface AttachmentsHealthThresholds {
  /** Down when the oldest due pending work has waited longer than this. No limit when omitted. */
  maxPendingAgeMs?: number;
  /** Down when more work than this has failed for good. No limit when omitted. */
  maxFailed?: number;
  /** How long each probe may take; the module's `sendTimeout` when omitted. */
  timeout?: number;
}

/**
 * Reports the attachments to terminus under `key`: up with the probe's report as details, or
 * down with the same details and `reasons`, one sentence per problem.
 */
@Injectable()
export class AttachmentsHealthIndicator {
  constructor(
    private readonly health: AttachmentsHealth,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async isHealthy<const Key extends string>(
    key: Key,
    thresholds: AttachmentsHealthThresholds = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const report = await this.health.check({ timeout: thresholds.timeout });
    const reasons = problemsOf(report, thresholds);
    const session = this.indicators.check(key);
    return reasons.length ? session.down({ ...report, reasons }) : session.up({ ...report });
  }
}

function problemsOf(
  report: AttachmentsHealthReport,
  { maxPendingAgeMs, maxFailed }: AttachmentsHealthThresholds,
): string[] {
  const reasons: string[] = [];
  if (!report.redis.up) reasons.push(`redis is unreachable: ${report.redis.error}`);
  if (!report.database.up) reasons.push(`the database is unreachable: ${report.database.error}`);
  for (const [name, storage] of Object.entries(report.storages)) {
    if (!storage.up) reasons.push(`storage "${name}" is unreachable: ${storage.error}`);
  }
  if (report.pending && maxPendingAgeMs !== undefined) {
    if (report.pending.oldestAgeMs > maxPendingAgeMs)
      reasons.push(
        `the oldest pending work has waited ${report.pending.oldestAgeMs} ms (max ${maxPendingAgeMs})`,
      );
  }
  if (report.failed && maxFailed !== undefined && report.failed.count > maxFailed) {
    reasons.push(`${report.failed.count} failed work item(s) (max ${maxFailed})`);
  }
  return reasons;
}
