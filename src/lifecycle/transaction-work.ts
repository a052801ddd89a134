import { type BeforeApplicationShutdown, Injectable } from '@nestjs/common';
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
 * `save(x, { data })`. The save does not wait for Redis to take the jobs: their rows are
 * committed, and the relay sends any that an add fails to deliver.
 */
@Injectable()
export class TransactionWork implements BeforeApplicationShutdown {
  private readonly pending = new WeakMap<QueryRunner, PendingWork[]>();
  /** Adds begun after a commit and not yet answered; each ends within `sendTimeout`. */
  private readonly sending = new Set<Promise<unknown>>();

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
      this.dispatch(work);
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
    this.dispatch(pending.map((entry) => entry.work));
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

  /**
   * Lets the adds the last commits began end before the queue closes (Nest closes it on
   * application shutdown, after this hook), so none is cut off and left to the relay's delay.
   */
  async beforeApplicationShutdown(): Promise<void> {
    // A save that commits meanwhile begins another add: wait for that one too.
    while (this.sending.size > 0) await Promise.all(this.sending);
  }

  /**
   * Tells listeners which files were attached and starts sending the committed work to the
   * queue, without waiting for Redis: a failed or slow add leaves the row to the relay.
   */
  private dispatch(work: AttachmentWork[]): void {
    for (const { payload } of work)
      if (payload.kind === 'promote') this.fresh.taken(payload.file.id);
    this.send(work);
    for (const { payload } of work) {
      if (payload.kind !== 'promote') continue;
      const { entity, recordId, attachment, file } = payload;
      this.events.emit({ type: 'attached', entity, recordId, attachment, file });
    }
  }

  /**
   * Begins the add once the current turn of the event loop has run: BullMQ builds and writes
   * its commands synchronously when called, which would otherwise run before the save's caller
   * resumes (and before its response is written).
   */
  private send(work: AttachmentWork[]): void {
    const sent = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.outbox.send(work))
      // send() never throws; kept so should that change, as nobody awaits it.
      .catch(() => false);
    this.sending.add(sent);
    void sent.then(() => this.sending.delete(sent));
  }
}
