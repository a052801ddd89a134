import type { JobStep } from '../../src/index.js';
import { waitFor } from './harness.js';

/**
 * Holds jobs at one step (`jobHooks.onStep`) until the test opens the gate, so a test can act
 * at that exact point. `names` narrows it to derivative jobs of those names.
 */
export class StepGate {
  private arrived = 0;
  private release: () => void = () => undefined;
  private opened: Promise<void> = Promise.resolve();
  private step: JobStep | undefined;
  private names: readonly string[] | undefined;

  close(step: JobStep, names?: readonly string[]): void {
    this.step = step;
    this.names = names;
    this.arrived = 0;
    this.opened = new Promise((resolve) => (this.release = resolve));
  }

  /** The `onStep` hook. */
  readonly pass = async (step: JobStep, data: Readonly<Record<string, unknown>>) => {
    if (step !== this.step) return;
    if (this.names && !this.names.includes(String(data.name))) return;
    this.arrived++;
    await this.opened;
  };

  async reached(count: number): Promise<void> {
    await waitFor(async () => this.arrived >= count, `${count} jobs at ${this.step}`);
  }

  open(): void {
    this.step = undefined;
    this.release();
  }
}
