import type { EntityManager } from 'typeorm';
import type { WorkJobData } from '../../core/index.js';
import type { AttachmentWork, WorkOutbox } from '../../outbox/index.js';

/**
 * What every kind of work shares: it runs only while its outbox row is pending (a repeated or
 * late delivery of finished work does nothing), and it ends by deleting that row.
 */
export abstract class WorkHandler<D extends WorkJobData, R> {
  protected constructor(protected readonly outbox: WorkOutbox) {}

  /** Runs the work, or returns `skipped` when its row is gone or failed. */
  async handle(data: D): Promise<R | 'skipped'> {
    const work = await this.outbox.pending(data.workId);
    return work ? this.run(data, work) : 'skipped';
  }

  /** The work itself, given its pending outbox row. */
  protected abstract run(data: D, work: AttachmentWork): Promise<R>;

  /** Ends the work; with a transaction's manager, atomically with the write it belongs to. */
  protected finish(data: D, manager?: EntityManager): Promise<number> {
    return this.outbox.finish([data.workId], manager);
  }
}
