import type { JobStep } from '../../src/index.js';
import { waitFor } from './harness.js';

type JobData = Readonly<Record<string, unknown>>;

/** Jobs held at one step, those that match, until released. */
export class Hold {
  arrived = 0;
  release: () => void = () => undefined;
  readonly opened = new Promise<void>((resolve) => (this.release = resolve));

  constructor(
    readonly step: JobStep,
    readonly matches: (data: JobData) => boolean,
  ) {}

  async reached(count = 1): Promise<void> {
    await waitFor(async () => this.arrived >= count, `${count} jobs held at ${this.step}`);
  }
}

/**
 * Several holds at once (`jobHooks.onStep`), each on its own step and jobs, released one by one
 * in the order a test chooses: a derivative job and a deletion held together, say.
 */
export class StepHolds {
  private holds: Hold[] = [];

  hold(step: JobStep, matches: (data: JobData) => boolean): Hold {
    const hold = new Hold(step, matches);
    this.holds.push(hold);
    return hold;
  }

  /** The `onStep` hook. */
  readonly pass = async (step: JobStep, data: JobData): Promise<void> => {
    for (const hold of this.holds) {
      if (hold.step !== step || !hold.matches(data)) continue;
      hold.arrived++;
      await hold.opened;
    }
  };

  /** Releases every hold and forgets them. */
  releaseAll(): void {
    for (const hold of this.holds) hold.release();
    this.holds = [];
  }
}
