/**
 * The randomized fault run. Worker child processes (concurrency 10, 1 s locks) are struck at
 * random moments and restarted: killed with SIGKILL during boot, soon after boot (while they
 * run the backlog), later, or just after a job reaches a chosen step; some are first frozen
 * (SIGSTOP) for 2-5 s, long enough for their jobs to be redelivered, then thawed to run on,
 * overlapping, and killed. A private Redis is killed and restarted twice; during each outage a
 * web app boots without Redis and must save all the same. Meanwhile this process saves,
 * replaces and removes records with PNG files at a steady rate. Then one last worker runs
 * until no work is pending, failed work is retried once, and the run checks that every
 * acknowledged change holds (the bytes in the store hash as expected, removed rows are gone),
 * no file is orphaned or missing, and no work is stuck.
 *
 * Every random choice comes from a PRNG seeded by `FAULT_SEED` (printed when unset), so a
 * failure can be replayed with the same schedule of operations and strikes (the interleaving
 * with the processes' own timing still varies). `FAULT_KILLS` sets how many kills (default 40),
 * `FAULT_WORKER_POOL` the size of each worker's database pool (default TypeORM's, 10).
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import { attachmentEntities } from '../../../src/index.js';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from '../databases.js';
import { Photo } from '../entities.js';
import { Chaos } from './chaos.js';
import { Lanes } from './lanes.js';
import { Ledger } from './ledger.js';
import { Outages } from './outages.js';
import { LANES, LANE_STOP_BOUND_MS, SEED } from './settings.js';
import { verdict } from './verdict.js';
import { Webs } from './webs.js';
import { Workers } from './workers.js';
import { freePort, RedisServer } from '../processes.js';
import { Random } from '../random.js';

/** Declares the fault run on one database server; each runs in a test file of its own. */
export function describeFaultRun(kind: DatabaseKind): void {
  describe(`randomized fault run on ${kind}`, () => {
    let db: TestDatabase;

    before(async () => {
      db = await createTestDatabase(kind, [Photo, ...attachmentEntities]);
    });

    after(async () => {
      await db?.close();
    });

    it(
      'workers killed at random, Redis killed twice: nothing lost, orphaned or stuck',
      { timeout: 330_000 },
      async (t: TestContext) => {
        const random = new Random(SEED);
        const ledger = new Ledger();
        console.log(`fault run: seed ${SEED} (replay with FAULT_SEED=${SEED})`);

        const redis = new RedisServer(await freePort());
        await redis.start();
        const webs = await Webs.start(db, redis);
        const workers = new Workers(webs.main.harness, db, redis);
        const lanes = new Lanes(ledger, random);
        const outages = new Outages(ledger, redis, webs, lanes, random);
        const chaos = new Chaos(ledger, workers, outages, random);
        try {
          for (let index = 0; index < LANES; index++) lanes.start(index, webs.main);
          await chaos.run();

          // No more chaos: the lanes stop, Redis is up, and one last worker runs what is left.
          await lanes.stop(LANE_STOP_BOUND_MS);
          const chaosEnd = Date.now();
          await redis.start();
          await workers.spawn(0).ready;
          await verdict(t, ledger, webs.main.harness, db, chaosEnd);
        } finally {
          lanes.halt();
          await workers.killAll();
          await redis.start().catch(() => undefined);
          await webs.close();
          await redis.kill();
        }
      },
    );
  });
}
