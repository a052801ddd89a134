/**
 * The chaos: worker after worker spawned and struck at a random moment (killed during boot,
 * soon after, later, or just after a job reaches a chosen step; some frozen first), with the
 * Redis outages started after given numbers of kills.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkerProcess } from '../processes.js';
import type { Random } from '../random.js';
import type { Ledger } from './ledger.js';
import type { Outages } from './outages.js';
import { CHAOS_CAP_MS, KILLS, OUTAGES, STEPS } from './settings.js';
import type { Workers } from './workers.js';

export class Chaos {
  private readonly random: Random;
  /** Outage `n` starts once this many workers have been struck. */
  private readonly outageAfterKill: number[];
  private outagesStarted = 0;
  private outageRun: Promise<void> | null = null;
  private readonly freezes: Promise<void>[] = [];

  constructor(
    private readonly ledger: Ledger,
    private readonly workers: Workers,
    private readonly outages: Outages,
    random: Random,
  ) {
    this.random = random.derive('chaos');
    this.outageAfterKill = [
      Math.max(1, Math.round(KILLS * 0.2) + this.random.int(0, 3)),
      Math.max(2, Math.round(KILLS * 0.6) + this.random.int(0, 3)),
    ].slice(0, OUTAGES);
  }

  /** Until every kill and outage is done, or the time cap; then waits for the frozen ones. */
  async run(): Promise<void> {
    const { figures } = this.ledger;
    const deadline = Date.now() + CHAOS_CAP_MS;
    while (figures.kills < KILLS || this.outagesStarted < this.outageAfterKill.length) {
      if (Date.now() > deadline) {
        figures.cutShort = true;
        break;
      }
      if (!(await this.strike())) continue;
      const next = this.outageAfterKill[this.outagesStarted];
      if (next !== undefined && figures.kills >= next && !this.ledger.outage && !this.outageRun) {
        this.outagesStarted++;
        this.outageRun = this.outages.run(this.outagesStarted).finally(() => {
          this.outageRun = null;
        });
      }
      await sleep(this.random.int(0, 800)); // no worker meanwhile: work piles up
    }
    await this.outageRun;
    await Promise.all(this.freezes);
  }

  /** A worker spawned and struck; false if it did not boot. */
  private async strike(): Promise<boolean> {
    const { ledger, random } = this;
    const { figures } = ledger;
    const worker = this.workers.spawn(random.int(0, 0xffffffff));
    // When to strike: during boot; at a random time soon (the backlog of the dead worker is
    // running then) or later; or just after a job reaches a given step.
    const duringBoot = random.chance(0.1);
    const delay = duringBoot
      ? random.int(50, 1500)
      : random.chance(0.5)
        ? random.int(20, 400)
        : random.int(400, 3500);
    const step = random.chance(0.5) ? random.pick(STEPS) : null;
    const afterStep = random.int(0, 100);
    if (!duringBoot) {
      try {
        await worker.ready;
      } catch (error) {
        figures.workerBootFailures++;
        ledger.problem('workers', `${ledger.clock()} a worker did not boot: ${String(error)}`);
        await this.kill(worker);
        return false;
      }
    }
    if (step && !duringBoot) {
      // Bounded: if no job reaches the step in time, strike then.
      if (await worker.nextLine(new RegExp(`^STEP ${step} `), delay + 3000)) {
        figures.strikesAtStep[step]++;
        await sleep(afterStep);
      }
    } else {
      await Promise.race([sleep(delay), worker.exit]);
    }
    if (worker.exited) {
      figures.workerCrashes++;
      ledger.problem(
        'workers',
        `${ledger.clock()} a worker exited by itself:\n${worker.stderrTail}`,
      );
      this.workers.forget(worker);
    } else if (worker.isReady && !ledger.outage && random.chance(0.3)) {
      figures.kills++;
      figures.freezes++;
      this.freezes.push(this.freezeThenKill(worker));
    } else {
      if (!worker.isReady) figures.killsDuringBoot++;
      await this.kill(worker);
      figures.kills++;
    }
    return true;
  }

  /**
   * Frozen, as by a long pause of its process or machine: its locks expire and the next worker
   * takes its jobs while it still runs them; thawed, it goes on with them, overlapping, until
   * it is killed.
   */
  private async freezeThenKill(worker: WorkerProcess): Promise<void> {
    const frozenMs = this.random.int(2000, 5000);
    const thawedMs = this.random.int(100, 1500);
    worker.freeze();
    await sleep(frozenMs);
    worker.thaw();
    await sleep(thawedMs);
    await this.kill(worker);
  }

  private async kill(worker: WorkerProcess): Promise<void> {
    await worker.kill();
    this.workers.forget(worker);
  }
}
