import { DerivativeBusyError } from './on-demand-errors.js';

/** A making's place: `ready` once it may run; `release()` once it has ended. */
export interface MakingSlot {
  ready: Promise<void>;
  release(): void;
}

/**
 * At most `concurrency` makings at once, and at most `queueLimit` more waiting for a slot, in
 * the order they came; past both a making is refused at once, before it takes anything.
 */
export class MakingSlots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly queueLimit: number,
  ) {}

  /** Makings that run, and that wait for a slot. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  reserve(): MakingSlot {
    let ready: Promise<void>;
    if (this.running < this.concurrency) {
      this.running++;
      ready = Promise.resolve();
    } else if (this.waiting.length < this.queueLimit) {
      // The slot passes from the making that releases it straight to this one.
      ready = new Promise((resolve) => this.waiting.push(resolve));
    } else {
      throw new DerivativeBusyError(
        'Too many derivatives are being made; try again in a moment',
        1,
      );
    }
    let released = false;
    return {
      ready,
      release: () => {
        if (released) return;
        released = true;
        const next = this.waiting.shift();
        if (next) next();
        else this.running--;
      },
    };
  }
}
