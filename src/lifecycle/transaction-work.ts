import { Injectable } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import { AttachmentEvents } from '../events/index.js';
import { type AttachmentWork, WorkOutbox } from '../outbox/index.js';
import { FreshAttachments } from './fresh-attachments.js';

interface PendingWork {
  depth: number;
  work: AttachmentWork;
}

function depthOf(runner: QueryRunner): number {
  return (runner as unknown as { transactionDepth: number }).transactionDepth ?? 0;
}

/**
 * Work recorded inside a transaction waits here until the outermost transaction commits, then
 * goes to the queue; a rollback (of the transaction, or of the savepoint that recorded it)
 * drops it. Kept per QueryRunner in a WeakMap, since `queryRunner.data` is replaced by
 * `save(x, { data })`.
 */
@Injectable()
export class TransactionWork {
  private readonly pending = new WeakMap<QueryRunner, PendingWork[]>();

  constructor(
    private readonly outbox: WorkOutbox,
    private readonly events: AttachmentEvents,
    private readonly fresh: FreshAttachments,
  ) {}

  /** Writes the rows in the caller's transaction; they are sent once it commits. */
  async record(runner: QueryRunner, work: AttachmentWork[]): Promise<void> {
    if (work.length === 0) return;
    await this.outbox.record(runner.manager, work);
    if (!runner.isTransactionActive) {
      // No transaction (save with `transaction: false`): the row is committed already.
      await this.dispatch(work);
      return;
    }
    const pending = this.pending.get(runner) ?? [];
    const depth = depthOf(runner);
    for (const entry of work) pending.push({ depth, work: entry });
    this.pending.set(runner, pending);
  }

  async committed(runner: QueryRunner): Promise<void> {
    const pending = this.pending.get(runner);
    if (!pending) return;
    if (runner.isTransactionActive) {
      // A savepoint was released: its work now belongs to the enclosing transaction.
      const depth = depthOf(runner);
      for (const entry of pending) entry.depth = Math.min(entry.depth, depth);
      return;
    }
    this.pending.delete(runner);
    // save() awaits this handler and would reject on a throw although the data is committed.
    await this.dispatch(pending.map((entry) => entry.work));
  }

  rolledBack(runner: QueryRunner): void {
    const pending = this.pending.get(runner);
    if (!pending) return;
    if (!runner.isTransactionActive) {
      this.pending.delete(runner);
      return;
    }
    const depth = depthOf(runner);
    this.pending.set(
      runner,
      pending.filter((entry) => entry.depth <= depth),
    );
  }

  /** Sends committed work to the queue and tells listeners which files were attached. */
  private async dispatch(work: AttachmentWork[]): Promise<void> {
    for (const { payload } of work)
      if (payload.kind === 'promote') this.fresh.taken(payload.file.id);
    await this.outbox.send(work);
    for (const { payload } of work) {
      if (payload.kind !== 'promote') continue;
      const { entity, recordId, attachment, file } = payload;
      await this.events.emit({ type: 'attached', entity, recordId, attachment, file });
    }
  }
}
