import type { EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm';
import { dialectOf } from '../persistence/index.js';

/** Ends a hold; calling it again does nothing. */
export type Release = () => void;

interface Holder {
  /** What one save knows the row as: every subject of one save shares it. */
  owner: object;
  count: number;
  start: () => void;
  started: Promise<void>;
}

const noRelease: Release = () => undefined;

/**
 * The row lock that databases with one connection for the process (SQLite) lack: a save takes
 * the record's hold before its locked read, and keeps it until its UPDATE or DELETE has run, so
 * an overlapping save of the same record reads the row as the first one wrote it. Holds are
 * per record, so saves of different records never wait for each other; subjects of one save
 * share the hold (TypeORM runs all their before-events before any statement). A hold never
 * outlives the transaction it was taken in: its end releases whatever a failure left held.
 */
export class RecordHolds {
  private readonly queues = new Map<string, Holder[]>();
  private readonly byRunner = new WeakMap<QueryRunner, Set<Release>>();

  async take(
    runner: QueryRunner,
    metadata: EntityMetadata,
    idMap: ObjectLiteral,
    owner: object,
  ): Promise<Release> {
    if (!dialectOf(runner.connection).oneConnection || !runner.isTransactionActive) {
      return noRelease;
    }
    const key = `${metadata.tablePath}\u0000${JSON.stringify(idMap)}`;
    const queue = this.queues.get(key) ?? [];
    this.queues.set(key, queue);
    let holder = queue.find((each) => each.owner === owner);
    if (holder) holder.count += 1;
    else {
      let start: () => void = () => undefined;
      const started = new Promise<void>((resolve) => (start = resolve));
      holder = { owner, count: 1, start, started };
      queue.push(holder);
      if (queue.length === 1) holder.start();
    }
    const held = holder;
    let done = false;
    const release: Release = () => {
      if (done) return;
      done = true;
      this.byRunner.get(runner)?.delete(release);
      if (--held.count > 0) return;
      // A holder released while it still waits (its transaction ended) must not wait forever.
      held.start();
      const index = queue.indexOf(held);
      if (index >= 0) queue.splice(index, 1);
      if (queue.length === 0) this.queues.delete(key);
      else if (index === 0) queue[0]!.start();
    };
    const ofRunner = this.byRunner.get(runner) ?? new Set<Release>();
    ofRunner.add(release);
    this.byRunner.set(runner, ofRunner);
    await held.started;
    if (!runner.isTransactionActive) {
      // The transaction ended while this waited (its save failed elsewhere): nothing to hold.
      release();
      return noRelease;
    }
    return release;
  }

  /** Releases every hold taken on the runner: its transaction ended, or a statement failed. */
  releaseAll(runner: QueryRunner): void {
    const releases = this.byRunner.get(runner);
    if (!releases) return;
    this.byRunner.delete(runner);
    for (const release of releases) release();
  }
}
