import { performance } from 'node:perf_hooks';

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Milliseconds `work` takes. */
export async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

/**
 * Runs baseline and subject alternately, `repetitions` times each, so drift in the machine's
 * load falls on both alike; returns the medians.
 */
export async function sideBySide(
  repetitions: number,
  baseline: () => Promise<number>,
  subject: () => Promise<number>,
): Promise<{ baseline: number; subject: number; repetitions: number }> {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < repetitions; i++) {
    // Alternate which goes first, so neither always runs on a warmer process.
    if (i % 2 === 0) {
      a.push(await baseline());
      b.push(await subject());
    } else {
      b.push(await subject());
      a.push(await baseline());
    }
  }
  return { baseline: median(a), subject: median(b), repetitions };
}

export const MB = 1024 * 1024;
