import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { In, LessThanOrEqual, MoreThan } from 'typeorm';
import { AttachmentsConfig, ATTACHMENTS_QUEUE } from '../config/index.js';
import { AttachmentWork, QueueConnection, WorkOutbox, jobIdFor } from '../outbox/index.js';
import { WorkFailures } from './work-failures.js';

const BATCH = 500;
/** Rows checked per pass at most, so one pass stays short whatever the backlog. */
const PASS_LIMIT = 20 * BATCH;
/** What BullMQ gives as the reason of a job whose workers died under it too often. */
const STALLED = /stalled more than allowable limit/;
/** The longest wait between two checks of one piece of work. */
const MAX_CHECK_INTERVAL = 10 * 60_000;

export interface RelayResult {
  /** Rows whose job the queue did not have (or had finished), sent again. */
  sent: number;
  /** Rows whose job BullMQ failed without the failure reaching the row: now marked failed. */
  failed: number;
  checked: number;
}

/**
 * Holds the outbox and the queue together. Each pass takes the pending rows whose check is
 * due, oldest check first, and asks BullMQ about each one's job: a job the queue does not
 * have (Redis lost it, or the process died before sending it) is sent; a job BullMQ finished
 * while the row is pending is sent again; a job BullMQ failed (stalled too often, or its last
 * attempt could not record the failure) has its failure recorded on the row. Every row is
 * reached: a checked row moves to the back, and its next check comes later the older it is.
 */
@Injectable()
export class WorkRelay {
  private readonly logger = new Logger('Attachments');

  constructor(
    private readonly config: AttachmentsConfig,
    private readonly outbox: WorkOutbox,
    private readonly connection: QueueConnection,
    private readonly failures: WorkFailures,
    @InjectQueue(ATTACHMENTS_QUEUE) private readonly queue: Queue,
  ) {}

  /**
   * One pass. With `all`, every pending row is checked now, whatever its schedule: after Redis
   * came back from an outage, or when the app asks.
   */
  async pass(options: { all?: boolean } = {}): Promise<RelayResult> {
    const result: RelayResult = { sent: 0, failed: 0, checked: 0 };
    if (!this.connection.ready) return result;
    const repository = this.config.dataSource.getRepository(AttachmentWork);
    const now = Date.now();
    let after = '';
    while (result.checked < PASS_LIMIT) {
      const rows = options.all
        ? await repository.find({
            where: { status: 'pending', id: MoreThan(after) },
            order: { id: 'ASC' },
            take: BATCH,
          })
        : await repository.find({
            where: { status: 'pending', relayAt: LessThanOrEqual(now) },
            order: { relayAt: 'ASC' },
            take: BATCH,
          });
      if (rows.length === 0) break;
      after = rows.at(-1)!.id;
      await this.check(rows, result);
      await this.reschedule(rows, now);
      result.checked += rows.length;
      if (rows.length < BATCH) break;
    }
    return result;
  }

  private async check(rows: AttachmentWork[], result: RelayResult): Promise<void> {
    const states = await Promise.all(rows.map((row) => this.queue.getJobState(jobIdFor(row.id))));
    const resend: AttachmentWork[] = [];
    for (const [index, row] of rows.entries()) {
      const state = states[index];
      if (state === 'unknown') resend.push(row);
      else if (state === 'completed' || state === 'failed') {
        if (await this.settleFinished(row, result)) resend.push(row);
      }
    }
    if (resend.length > 0 && (await this.outbox.send(resend))) result.sent += resend.length;
  }

  /**
   * A job BullMQ finished while its work is still pending. Another relay may be acting on the
   * same job at this moment, so this acts only on what it reads again now, and a stall is
   * counted on the row by a compare-and-set that one relay alone wins. Returns whether to send
   * the work again.
   */
  private async settleFinished(row: AttachmentWork, result: RelayResult): Promise<boolean> {
    const job = await this.queue.getJob(jobIdFor(row.id));
    // Removed meanwhile, to be queued again: a second add of the same id changes nothing.
    if (!job) return true;
    const state = await job.getState();
    // Finished in the queue, yet its work is not done: a finished job's id blocks a new add.
    if (state === 'completed') return removed(job);
    if (state !== 'failed') return false; // queued again meanwhile
    if (this.mayRunAgain(row, job)) {
      const repository = this.config.dataSource.getRepository(AttachmentWork);
      const counted = await repository.update(
        { id: row.id, status: 'pending', attempts: row.attempts },
        { attempts: row.attempts + 1 },
      );
      if (!counted.affected) return false; // another relay counted it, and sends it
      return removed(job);
    }
    if (await this.recordFailure(row, job)) result.failed++;
    return false;
  }

  /**
   * A job BullMQ failed because its workers died under it (or hung) more than
   * `maxStalledCount` times did nothing wrong itself, and every job is safe to run again: it
   * goes back to the queue, each such stall spending one of the work's `attempts`, so work that
   * keeps killing its workers still ends failed.
   */
  private mayRunAgain(row: AttachmentWork, job: Job): boolean {
    const attempts = job.opts.attempts ?? this.config.jobOptions.attempts ?? 1;
    return STALLED.test(job.failedReason ?? '') && row.attempts + 1 < attempts;
  }

  private async recordFailure(row: AttachmentWork, job: Job | undefined): Promise<boolean> {
    const error = job?.failedReason || 'the job failed in the queue without a reason';
    const recorded = await this.failures.record(row.id, {
      attempts: row.attempts + (job?.attemptsMade ?? 0) + (STALLED.test(error) ? 1 : 0),
      error,
      job: row.kind,
    });
    if (recorded) {
      this.logger.error(
        `Attachment job failed for good: ${error} ` +
          JSON.stringify({ job: row.kind, id: row.id, data: row.payload }),
      );
    }
    return recorded;
  }

  /**
   * The next check of each row: after `relay.after` for young work, then twice as long each
   * time the work's age doubles, up to 10 minutes. Intervals are powers of two of `after`, so
   * a batch needs a handful of UPDATEs.
   */
  private async reschedule(rows: AttachmentWork[], now: number): Promise<void> {
    const byTime = new Map<number, string[]>();
    for (const row of rows) {
      // At least 1 ms: with `relay.after: 0` the doubling would never leave 0, and a row
      // rescheduled to `now` would be read again by this very pass.
      let interval = Math.max(this.config.relayAfter, 1);
      while (interval * 2 <= (now - row.createdAt) / 2 && interval * 2 <= MAX_CHECK_INTERVAL) {
        interval *= 2;
      }
      byTime.set(now + interval, [...(byTime.get(now + interval) ?? []), row.id]);
    }
    const repository = this.config.dataSource.getRepository(AttachmentWork);
    for (const [relayAt, ids] of byTime) {
      await repository.update({ id: In(ids), status: 'pending' }, { relayAt });
    }
  }
}

/** False when the job could not be removed: a worker or another relay took it meanwhile. */
async function removed(job: Job): Promise<boolean> {
  try {
    await job.remove();
    return true;
  } catch {
    return false;
  }
}
