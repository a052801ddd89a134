import { createHash } from 'node:crypto';

/**
 * A small seeded PRNG (mulberry32) for randomized tests: the same seed gives the same choices,
 * so a failing run can be replayed. `derive(label)` gives an independent stream per actor, so
 * one actor's draws do not shift another's.
 */
export class Random {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A stream of its own for `label`, fixed by this generator's seed. */
  derive(label: string): Random {
    const digest = createHash('sha256').update(`${this.seed}:${label}`).digest();
    return new Random(digest.readUInt32BE(0));
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Random.pick: no items');
    return items[Math.floor(this.next() * items.length)];
  }
}

/** The seed from `variable` in the environment, or a fresh one. */
export function seedFrom(variable: string): number {
  const given = process.env[variable];
  if (given !== undefined && given !== '') {
    const seed = Number(given);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new Error(`${variable} must be an integer from 0 to 4294967295, got "${given}"`);
    }
    return seed;
  }
  return Math.floor(Math.random() * 0x100000000);
}
