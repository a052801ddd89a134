/**
 * What the worker-throughput bench and its worker processes say to each other over IPC. The
 * parent sends `start` with everything the child needs to reach the backlog; the child boots,
 * answers `ready`, waits for `go`, then resumes the paused queue, times the drain and answers
 * `done` (or `error`, at any point).
 */

export type WorkerSide = 'ours' | 'floor';

export interface WorkerRunConfig {
  side: WorkerSide;
  concurrency: number;
  databaseUrl: string;
  cacheDirectory: string;
  storeDirectory: string;
  queuePrefix: string;
  /** Where the floor's SQL goes: the attached entity's table, key and column, and the outbox. */
  table: string;
  idColumn: string;
  column: string;
  workTable: string;
  /** How long the drain may take before the child gives up. */
  timeoutMs: number;
}

export type ParentMessage =
  { type: 'start'; config: WorkerRunConfig; workIds: string[] } | { type: 'go' };

export interface DrainMeasure {
  /** From the queue's resume to the completion of the last promote job of the backlog. */
  elapsedMs: number;
  /** User plus system CPU of the worker process over that span. */
  cpuMs: number;
  /**
   * Connections whose statistics the child flushed after the drain: each such flush is itself
   * one committed transaction, to take off the count of the drain's commits.
   */
  flushCommits: number;
}

export type ChildMessage =
  { type: 'ready' } | ({ type: 'done' } & DrainMeasure) | { type: 'error'; message: string };

/** The PostgreSQL pool of each side: TypeORM's default size for `postgres`. */
export const POOL_SIZE = 10;

/** Job options of the web app that makes the backlog and of the worker: Redis stays small. */
export const JOB_OPTIONS = { attempts: 3, removeOnComplete: true } as const;
