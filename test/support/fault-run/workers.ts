/** The run's worker processes: slowed at every step, announcing each, with a fast relay. */
import type { TestDatabase } from '../databases.js';
import type { Harness } from '../harness.js';
import { WorkerProcess, type RedisServer } from '../processes.js';
import { CONCURRENCY, LOCK_MS, READY_BOUND_MS, WORKER_POOL } from './settings.js';

export class Workers {
  private live: WorkerProcess[] = [];

  constructor(
    private readonly web: Harness,
    private readonly db: TestDatabase,
    private readonly redis: RedisServer,
  ) {}

  /** A worker booting now; `stepSeed` fixes its pauses at each step. */
  spawn(stepSeed: number): WorkerProcess {
    const worker = new WorkerProcess(
      this.web,
      this.db,
      {
        REDIS_URL: this.redis.url,
        LOCK_MS: String(LOCK_MS),
        CONCURRENCY: String(CONCURRENCY),
        ...(WORKER_POOL ? { DB_POOL_SIZE: WORKER_POOL } : {}),
        RELAY_INTERVAL_MS: '200',
        RELAY_AFTER_MS: '500',
        STEP_DELAY_MS: '150',
        STEP_DELAY_SEED: String(stepSeed),
        ANNOUNCE_STEPS: '1',
      },
      READY_BOUND_MS,
    );
    this.live.push(worker);
    return worker;
  }

  /** One that has been killed. */
  forget(worker: WorkerProcess): void {
    this.live = this.live.filter((candidate) => candidate !== worker);
  }

  async killAll(): Promise<void> {
    for (const worker of this.live) await worker.kill();
  }
}
