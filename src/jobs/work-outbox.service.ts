import { randomUUID } from 'node:crypto';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { In, LessThanOrEqual, type EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import { AttachmentsConfig } from '../attachments-config.js';
import { ATTACHMENTS_QUEUE } from '../constants.js';
import { AttachmentWork } from './attachment-work.entity.js';
import { jobIdFor, type WorkJobData, type WorkPayload } from './work-payload.js';

const RELAY_BATCH = 500;

/**
 * Writes work into the outbox inside the caller's transaction and sends it to BullMQ after the
 * commit. Sending may fail (Redis down): the row stays and the relay sends it again later; a
 * deterministic job id makes a second send of a job still in the queue a no-op.
 */
@Injectable()
export class WorkOutbox {
  private readonly logger = new Logger('Attachments');
  private lastSendFailure = 0;

  constructor(
    private readonly config: AttachmentsConfig,
    @InjectQueue(ATTACHMENTS_QUEUE) readonly queue: Queue,
  ) {}

  create(
    payload: WorkPayload,
    options: { entity?: string; recordId?: unknown; delay?: number; id?: string } = {},
  ): AttachmentWork {
    const now = Date.now();
    const work = new AttachmentWork();
    work.id = options.id ?? randomUUID();
    work.kind = payload.kind;
    work.entity = options.entity ?? null;
    work.recordId = options.recordId === undefined ? null : JSON.stringify(options.recordId);
    work.payload = payload;
    work.status = 'pending';
    work.attempts = 0;
    work.lastError = null;
    work.createdAt = now;
    work.availableAt = now + (options.delay ?? 0);
    return work;
  }

  async record(manager: EntityManager, work: readonly AttachmentWork[]): Promise<void> {
    if (work.length === 0) return;
    // Copies: after a multi-row insert on SQLite, TypeORM 1.1 writes primary keys back into the
    // objects in the wrong order, which would pair one row's id with another row's payload.
    const rows = work.map((row) => ({ ...row }) as QueryDeepPartialEntity<AttachmentWork>);
    await manager.insert(AttachmentWork, rows);
  }

  /** Adds the jobs; never throws. Returns false when Redis could not take them. */
  async send(work: readonly AttachmentWork[]): Promise<boolean> {
    if (work.length === 0) return true;
    const now = Date.now();
    try {
      await this.queue.addBulk(
        work.map((row) => ({
          name: row.kind,
          data: { ...row.payload, workId: row.id } as WorkJobData,
          opts: {
            ...this.config.jobOptions,
            jobId: jobIdFor(row.id),
            delay: Math.max(0, row.availableAt - now),
          },
        })),
      );
      return true;
    } catch (error) {
      // One line per minute at most: an outage would otherwise log once per save.
      if (now - this.lastSendFailure > 60_000) {
        this.logger.warn(
          `Could not queue ${work.length} attachment job(s), the relay will retry: ${String(error)}`,
        );
        this.lastSendFailure = now;
      }
      return false;
    }
  }

  /** Sends pending work older than the relay delay again. Returns how many rows it sent. */
  async relayPending(): Promise<number> {
    const repository = this.config.dataSource.getRepository(AttachmentWork);
    const rows = await repository.find({
      where: { status: 'pending', createdAt: LessThanOrEqual(Date.now() - this.config.relayAfter) },
      order: { createdAt: 'ASC' },
      take: RELAY_BATCH,
    });
    return (await this.send(rows)) ? rows.length : 0;
  }

  async exists(workId: string): Promise<AttachmentWork | null> {
    return this.config.dataSource.getRepository(AttachmentWork).findOneBy({ id: workId });
  }

  /** Removes finished work; pass the transaction's manager to finish it atomically with a write. */
  async finish(workIds: readonly string[], manager?: EntityManager): Promise<void> {
    if (workIds.length === 0) return;
    const repository = (manager ?? this.config.dataSource.manager).getRepository(AttachmentWork);
    await repository.delete({ id: In([...workIds]) });
  }

  async markFailed(workId: string, attempts: number, error: unknown): Promise<void> {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    await this.config.dataSource
      .getRepository(AttachmentWork)
      .update({ id: workId }, { status: 'failed', attempts, lastError: message.slice(0, 4000) });
  }
}
