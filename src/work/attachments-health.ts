import { performance } from 'node:perf_hooks';
import { Injectable } from '@nestjs/common';
import { AttachmentsConfig } from '../config/index.js';
import { answerWithin } from '../core/index.js';
import { AttachmentWork, WorkOutbox } from '../outbox/index.js';

/** Whether one dependency answered within the probe's time. */
export interface ProbeResult {
  up: boolean;
  /** How long the answer took, when there was one. */
  latencyMs?: number;
  /** Why it is down. */
  error?: string;
}

/** What `AttachmentsHealth.check()` found; every probe answers, down or up, in bounded time. */
export interface AttachmentsHealthReport {
  /** A read of the queue's keys on its Redis connection. */
  redis: ProbeResult;
  /** The outbox queries below; when it is down, `pending` and `failed` are null. */
  database: ProbeResult;
  /**
   * Work not finished yet (notifications included), and how long the oldest of it has been
   * due: work delayed on purpose (a deletion's `cacheDeleteDelay`) counts from when it may run.
   */
  pending: { count: number; oldestAgeMs: number } | null;
  /** Work that failed for good and waits for `AttachmentWorkService.retry` or its retention. */
  failed: { count: number } | null;
  /** A `stat` of an id that does not exist, in each configured storage. */
  storages: Record<string, ProbeResult>;
}

export interface HealthCheckOptions {
  /** How long each probe may take before it counts as down; `sendTimeout` when omitted. */
  timeout?: number;
}

/** An id no upload makes (no extension, no UUID), so the probe reads nothing real. */
const PROBE_ID = 'attachments-health-probe';

/**
 * Probes what the attachments need, each in bounded time, and all at once: a check answers
 * within about one `timeout` even when Redis, the database and a storage all hang.
 */
@Injectable()
export class AttachmentsHealth {
  constructor(
    private readonly config: AttachmentsConfig,
    private readonly outbox: WorkOutbox,
  ) {}

  async check(options: HealthCheckOptions = {}): Promise<AttachmentsHealthReport> {
    const timeout = options.timeout ?? this.config.sendTimeout;
    const names = this.config.storageNames;
    const [redis, work, ...storages] = await Promise.all([
      // A read of the queue's own keys: it answers only when the queue can reach them.
      probe(timeout, async () => {
        await this.outbox.queue.getJobCountByTypes('waiting');
      }),
      probeWithValue(timeout, () => this.workCounts()),
      ...names.map((name) =>
        probe(timeout, async () => {
          await this.config.storage(name).stat(PROBE_ID);
        }),
      ),
    ]);
    return {
      redis,
      database: work.result,
      pending: work.value?.pending ?? null,
      failed: work.value?.failed ?? null,
      storages: Object.fromEntries(names.map((name, index) => [name, storages[index]!])),
    };
  }

  /**
   * Two aggregates over one status each: the count of failed work reads the (status, failedAt,
   * id) index alone; the pending one walks the pending entries of (status, relayAt), so its
   * cost follows the backlog, not the size of the table.
   */
  private async workCounts() {
    const repository = this.config.dataSource.getRepository(AttachmentWork);
    const [pending, failed] = await Promise.all([
      repository
        .createQueryBuilder('work')
        .select('COUNT(*)', 'count')
        .addSelect('MIN(work.availableAt)', 'firstDue')
        .where('work.status = :status', { status: 'pending' })
        .getRawOne<{ count: string | number; firstDue: string | number | null }>(),
      repository
        .createQueryBuilder('work')
        .select('COUNT(*)', 'count')
        .where('work.status = :status', { status: 'failed' })
        .getRawOne<{ count: string | number }>(),
    ]);
    const firstDue = pending?.firstDue == null ? null : Number(pending.firstDue);
    return {
      pending: {
        count: Number(pending?.count ?? 0),
        // The earliest availableAt is in the future only when no pending work is due yet.
        oldestAgeMs: firstDue === null ? 0 : Math.max(0, Date.now() - firstDue),
      },
      failed: { count: Number(failed?.count ?? 0) },
    };
  }
}

async function probe(timeout: number, call: () => Promise<void>): Promise<ProbeResult> {
  return (await probeWithValue(timeout, call)).result;
}

/** Runs `call`, down when it throws or takes longer than `timeout`. */
async function probeWithValue<T>(
  timeout: number,
  call: () => Promise<T>,
): Promise<{ result: ProbeResult; value?: T }> {
  const started = performance.now();
  try {
    const value = await answerWithin(timeout, call);
    return { result: { up: true, latencyMs: Math.round(performance.now() - started) }, value };
  } catch (error) {
    return { result: { up: false, error: error instanceof Error ? error.message : String(error) } };
  }
}
