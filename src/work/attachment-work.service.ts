import { Injectable } from '@nestjs/common';
import type { EntityTarget, ObjectLiteral } from 'typeorm';
import { RegenerateDerivatives, type RegenerateOptions } from './regenerate-derivatives.js';
import { AttachmentsConfig } from '../config/index.js';
import { AttachmentWork, WorkOutbox, jobIdFor } from '../outbox/index.js';
import { SweepHandler, type SweepResult } from './handlers/sweep.handler.js';
import { WorkRelay } from './work-relay.js';

/** What the app can see and do about background work: list it, retry failures, run upkeep. */
@Injectable()
export class AttachmentWorkService {
  constructor(
    private readonly config: AttachmentsConfig,
    private readonly outbox: WorkOutbox,
    private readonly sweepJob: SweepHandler,
    private readonly regenerator: RegenerateDerivatives,
    private readonly relayer: WorkRelay,
  ) {}

  /**
   * Queues the derivatives of every stored file of `entity.property` again, in batches (after
   * changing a size, say). Each replaces its previous version. Returns how many jobs it queued.
   */
  regenerateDerivatives(
    entity: EntityTarget<ObjectLiteral>,
    property: string,
    options?: RegenerateOptions,
  ): Promise<number> {
    return this.regenerator.run(entity, property, options);
  }

  /** Pending and failed work of one record. */
  forRecord(entity: ObjectLiteral): Promise<AttachmentWork[]> {
    const metadata = this.config.dataSource.getMetadata(entity.constructor);
    return this.repository.find({
      where: {
        entity: metadata.name,
        recordId: JSON.stringify(metadata.getEntityIdMap(entity)),
      },
      order: { createdAt: 'ASC' },
    });
  }

  /** Work that failed for good, newest first. */
  failed(limit = 100): Promise<AttachmentWork[]> {
    return this.repository.find({
      where: { status: 'failed' },
      order: { createdAt: 'DESC' },
      take: limit,
    });
  }

  /** Puts failed work back in the queue with fresh attempts. */
  async retry(workId: string): Promise<boolean> {
    const work = await this.repository.findOneBy({ id: workId, status: 'failed' });
    if (!work) return false;
    const now = Date.now();
    const fresh = { status: 'pending' as const, attempts: 0, lastError: null, failedAt: null };
    await this.repository.update(
      { id: workId, status: 'failed' },
      { ...fresh, availableAt: now, relayAt: now + this.config.relayAfter },
    );
    // The failed job keeps its id in BullMQ; an add with that id would be ignored.
    await (await this.outbox.queue.getJob(jobIdFor(workId)))?.remove();
    Object.assign(work, fresh, { availableAt: now });
    return this.outbox.send([work]);
  }

  /**
   * Checks every pending row against the queue now, sends what the queue lacks and records
   * failures it holds; the worker also does this on a timer. Returns how many rows it sent.
   */
  async relay(): Promise<number> {
    return (await this.relayer.pass({ all: true })).sent;
  }

  /** Deletes expired, unreferenced cached files now instead of waiting for the schedule. */
  sweep(): Promise<SweepResult> {
    return this.sweepJob.run();
  }

  private get repository() {
    return this.config.dataSource.getRepository(AttachmentWork);
  }
}
