import { Injectable } from '@nestjs/common';

/** Removes the unfinished resumable uploads begun before `cutoff`, and says how many. */
export type ResumableUploadSweep = (cutoff: Date) => Promise<number>;

/**
 * Where the HTTP layer's resumable uploads let the cache sweep, which runs in the work layer
 * below it, remove the ones their clients abandoned, without the sweep knowing what tus is.
 */
@Injectable()
export class ResumableUploadSweeps {
  private readonly sweeps = new Set<ResumableUploadSweep>();

  register(sweep: ResumableUploadSweep): void {
    this.sweeps.add(sweep);
  }

  /** Runs every registered sweep; the total removed. */
  async run(cutoff: Date): Promise<number> {
    let removed = 0;
    for (const sweep of this.sweeps) removed += await sweep(cutoff);
    return removed;
  }
}
