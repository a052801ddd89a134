/**
 * PostgreSQL publishes a backend's counters (committed transactions among them) only now and
 * then, up to 10 s after the backend goes idle. To count the commits of a span exactly, each
 * side takes every connection of its pool at once and has each backend flush its counters:
 * before the span (which also opens the whole pool, for both sides alike) and after it.
 */

const FLUSH = 'SELECT pg_stat_force_next_flush() FROM pg_class LIMIT 1';

export interface PooledConnection {
  query(sql: string): Promise<unknown>;
  release(): unknown;
}

/** A booted worker process's side: its worker runs, on a queue still paused. */
export interface BootedWorker {
  /** Flushes the counters of every pool connection; returns how many (one commit each). */
  flushStatistics(): Promise<number>;
  close(): Promise<void>;
}

export async function flushPoolStatistics(
  acquire: () => Promise<PooledConnection>,
  size: number,
): Promise<number> {
  // All held together, so that each one is a different backend.
  const connections = await Promise.all(Array.from({ length: size }, acquire));
  try {
    // The counters are flushed before the server answers, so they are visible on return. A
    // backend with no table counters pending flushes nothing, its commit counts included: the
    // read of pg_class gives each one some, so that every commit so far is published.
    await Promise.all(connections.map((c) => c.query(FLUSH)));
  } finally {
    for (const connection of connections) await connection.release();
  }
  return connections.length;
}
