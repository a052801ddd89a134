import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { JobStep } from '../../src/index.js';
import { waitFor } from './harness.js';

type JobData = Readonly<Record<string, unknown>>;

/**
 * Holds the first job that reaches a step (and matches), and lets every later arrival pass:
 * a test then runs the same job data a second time to the end while the first run waits at
 * that exact step, as when BullMQ redelivers a job whose worker stalled.
 */
export class FirstRunGate {
  private step: JobStep | undefined;
  private matches: (data: JobData) => boolean = () => true;
  private heldData: JobData | undefined;
  private release: () => void = () => undefined;

  hold(step: JobStep, matches: (data: JobData) => boolean = () => true): void {
    this.step = step;
    this.matches = matches;
    this.heldData = undefined;
  }

  /** The `onStep` hook. */
  readonly pass = async (step: JobStep, data: JobData): Promise<void> => {
    if (step !== this.step || this.heldData || !this.matches(data)) return;
    this.heldData = data;
    await new Promise<void>((resolve) => (this.release = resolve));
  };

  /** The data of the held run, once a run is held. */
  held(): Promise<JobData> {
    return waitFor(async () => this.heldData, `a job held at ${this.step}`);
  }

  /** Lets the held run go on; later arrivals pass too. */
  open(): void {
    this.step = undefined;
    this.release();
  }
}

/**
 * Runs the data of the run `gate` holds again, under another job id, to its end (the first run
 * still held), as BullMQ does when it redelivers a stalled job. Returns the held data.
 */
export async function runHeldAgain(
  gate: FirstRunGate,
  queue: Queue,
  name: string,
): Promise<JobData> {
  const data = await gate.held();
  const jobId = `again-${randomUUID()}`;
  await queue.add(name, { ...data }, { jobId });
  await waitFor(
    async () => (await queue.getJobState(jobId)) === 'completed',
    'the second run to complete',
  );
  return data;
}
