import { Transform } from 'node:stream';
import type { Storage } from '../../src/index.js';
import { type CopyMethod, type StoredObjectStat } from '../../src/storage/authoring.js';
import { DelegatingStorage } from './delegating-storage.js';

/**
 * A storage that delegates to a real one, except that the next copy can be held in the middle:
 * the bytes stream through a gate that awaits `pauseNextCopy`'s callback before passing the
 * first chunk on, so a test acts while the copy is under way. Likewise the next `stat` awaits
 * `pauseNextStat`'s callback before it looks, so a test acts between a check and an inspection.
 */
export class PausingStorage extends DelegatingStorage {
  private pause?: () => Promise<void>;
  private statPause?: () => Promise<void>;

  pauseNextCopy(during: () => Promise<void>): void {
    this.pause = during;
  }

  pauseNextStat(during: () => Promise<void>): void {
    this.statPause = during;
  }

  override async copy(source: Storage, sourceId: string, id: string): Promise<CopyMethod> {
    const during = this.pause;
    this.pause = undefined;
    if (!during) return this.inner.copy(source, sourceId, id);
    const input = await source.open(sourceId);
    let held = false;
    const gate = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        if (held) return done(null, chunk);
        held = true;
        during().then(
          () => done(null, chunk),
          (error: Error) => done(error),
        );
      },
    });
    input.once('error', (error) => gate.destroy(error));
    await this.inner.upload(id, input.pipe(gate));
    return 'stream';
  }

  override async stat(id: string): Promise<StoredObjectStat | null> {
    const during = this.statPause;
    this.statPause = undefined;
    await during?.();
    return this.inner.stat(id);
  }
}
