import type { DataSource } from 'typeorm';

const queues = new WeakMap<DataSource, Promise<unknown>>();

/**
 * Runs `work` (which opens a transaction) alone among this library's transactions, when the
 * database is SQLite: better-sqlite3 gives TypeORM one connection, and a second BEGIN on it
 * while a transaction is open fails. Other databases run it at once, on a connection of its own.
 */
export function serialized<T>(dataSource: DataSource, work: () => Promise<T>): Promise<T> {
  if (dataSource.options.type !== 'better-sqlite3') return work();
  const previous = queues.get(dataSource) ?? Promise.resolve();
  const run = previous.then(work, work);
  queues.set(
    dataSource,
    run.catch(() => undefined),
  );
  return run;
}
