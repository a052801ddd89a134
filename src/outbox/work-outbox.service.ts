import { randomUUID } from 'node:crypto';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { EntityManager } from 'typeorm';
import { AttachmentsConfig, ATTACHMENTS_QUEUE } from '../config/index.js';
import { Tracing } from '../telemetry/index.js';
import {
  deleteByIds,
  deleteByIdsAndInsert,
  findRow,
  insertRows,
  rowExists,
  type RowMatch,
} from '../persistence/index.js';
import { AttachmentWork } from './attachment-work.entity.js';
import { QueueConnection } from './queue-connection.js';
import type { WorkJobData, WorkPayload } from '../core/index.js';
import { jobIdFor } from './job-id.js';

export interface WorkOptions {
  entity?: string;
  recordId?: unknown;
  /** Milliseconds before the job may run. */
  delay?: number;
  /** A deterministic id, so that work recorded twice is recorded once. */
  id?: string;
}

/**
 * Writes work into the outbox inside the caller's transaction and sends it to BullMQ after the
 * commit. Sending may fail or time out (Redis down): the row stays and the relay sends it
 * later; a deterministic job id makes a second send of a job still in the queue a no-op.
 */
@Injectable()
export class WorkOutbox {
  /** Injected as a property, so that the declarations never name OpenTelemetry's types. */
  @Inject(Tracing) private readonly tracing!: Tracing;

  constructor(
    private readonly config: AttachmentsConfig,
    private readonly connection: QueueConnection,
    @InjectQueue(ATTACHMENTS_QUEUE) readonly queue: Queue,
  ) {}

  create(payload: WorkPayload, options: WorkOptions = {}): AttachmentWork {
    const now = Date.now();
    const work = new AttachmentWork();
    work.id = options.id ?? randomUUID();
    work.kind = payload.kind;
    work.entity = options.entity ?? null;
    work.recordId = options.recordId === undefined ? null : JSON.stringify(options.recordId);
    work.cachedFileId =
      payload.kind === 'promote' && payload.file.storage === this.config.cacheStorage
        ? payload.file.id
        : null;
    // The trace of the change that implies the work, which its job continues, even when the
    // relay sends it much later from another process.
    const trace = this.tracing.captureContext() ?? payload.trace;
    work.payload = trace ? { ...payload, trace } : payload;
    work.status = 'pending';
    work.attempts = 0;
    work.lastError = null;
    work.createdAt = now;
    work.availableAt = now + (options.delay ?? 0);
    work.relayAt = work.availableAt + this.config.relayAfter;
    work.failedAt = null;
    return work;
  }

  /**
   * Inserts the rows with the caller's manager (inside its transaction). With `once`, rows whose
   * id exists already are left as they are, so recording deterministic work again is harmless.
   */
  async record(
    manager: EntityManager,
    work: readonly AttachmentWork[],
    options: { once?: boolean } = {},
  ): Promise<void> {
    if (work.length === 0) return;
    const metadata = manager.dataSource.getMetadata(AttachmentWork);
    await insertRows(manager, metadata, work, { ignoreExisting: options.once });
  }

  /**
   * `finish` and `record` together, in the caller's transaction, for work that ends by recording
   * what follows it (none of whose ids it shares): one statement where the database can.
   */
  async finishAndRecord(
    manager: EntityManager,
    workIds: readonly string[],
    work: readonly AttachmentWork[],
    options: { once?: boolean } = {},
  ): Promise<void> {
    const metadata = manager.dataSource.getMetadata(AttachmentWork);
    await deleteByIdsAndInsert(manager, metadata, workIds, work, { ignoreExisting: options.once });
  }

  /**
   * Adds the jobs, in bounded time; never throws. Returns false when Redis could not take them
   * (down, never reached since boot, or too slow): the relay sends them later.
   */
  async send(work: readonly AttachmentWork[]): Promise<boolean> {
    if (work.length === 0) return true;
    const now = Date.now();
    return this.connection.attempt(`queue ${work.length} attachment job(s)`, () =>
      this.queue.addBulk(
        work.map((row) => ({
          name: row.kind,
          data: { ...row.payload, workId: row.id } as WorkJobData,
          opts: {
            ...this.config.jobOptions,
            jobId: jobIdFor(row.id),
            delay: Math.max(0, row.availableAt - now),
          },
        })),
      ),
    );
  }

  /** Whether the work is still to be done: one plain statement, for the checks jobs repeat. */
  isPending(workId: string): Promise<boolean> {
    return rowExists(this.config.dataSource.manager, this.pendingRow(workId));
  }

  /** The outbox row of work still to be done, for statements that check it as they read. */
  pendingRow(workId: string): RowMatch {
    const metadata = this.config.dataSource.getMetadata(AttachmentWork);
    return { metadata, match: { id: workId, status: 'pending' } };
  }

  /** The row, if its work is still to be done. */
  async pending(workId: string, manager?: EntityManager): Promise<AttachmentWork | null> {
    const row = await findRow(manager ?? this.config.dataSource.manager, this.pendingRow(workId));
    return row ? Object.assign(new AttachmentWork(), row) : null;
  }

  /**
   * Removes finished work; pass the transaction's manager to finish it atomically with a write.
   * Returns how many of the rows were still there.
   */
  async finish(workIds: readonly string[], manager?: EntityManager): Promise<number> {
    if (workIds.length === 0) return 0;
    const target = manager ?? this.config.dataSource.manager;
    return deleteByIds(target, target.dataSource.getMetadata(AttachmentWork), workIds);
  }
}
