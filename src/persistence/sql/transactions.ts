import type { DataSource, QueryRunner } from 'typeorm';
import { dialectOf } from './dialect-of.js';

const queues = new WeakMap<DataSource, Promise<unknown>>();

/**
 * Runs `work` (which opens a transaction) alone among this library's transactions, when the
 * database is SQLite: better-sqlite3 gives TypeORM one connection, and a second BEGIN on it
 * while a transaction is open fails. Other databases run it at once, on a connection of its own.
 */
export function serialized<T>(dataSource: DataSource, work: () => Promise<T>): Promise<T> {
  if (!dialectOf(dataSource).oneConnection) return work();
  const previous = queues.get(dataSource) ?? Promise.resolve();
  const run = previous.then(work, work);
  queues.set(
    dataSource,
    run.catch(() => undefined),
  );
  return run;
}

/**
 * Runs `work` in a transaction of its own, on one connection taken from the pool for just that
 * long: a job never holds a connection while it copies or processes a file, and never needs a
 * second one while it holds the first, so any worker concurrency makes progress on any pool.
 */
export function inTransaction<T>(
  dataSource: DataSource,
  work: (runner: QueryRunner) => Promise<T>,
): Promise<T> {
  // Each statement sees what others committed before it, as a job's checks need.
  const isolation = dialectOf(dataSource).snapshotReads ? 'READ COMMITTED' : undefined;
  return serialized(dataSource, async () => {
    const runner = dataSource.createQueryRunner();
    try {
      await runner.startTransaction(isolation);
      try {
        const result = await work(runner);
        await runner.commitTransaction();
        return result;
      } catch (error) {
        if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
        throw error;
      }
    } finally {
      await runner.release();
    }
  });
}
