/**
 * The lanes: each saves, replaces and removes records of its own, one at a time, through one
 * web app, and writes in the ledger what each acknowledged change means for its record.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Photo } from '../entities.js';
import { png } from '../fixtures.js';
import type { Random } from '../random.js';
import { within } from './bounds.js';
import { recordOf, type Ledger, type Operation } from './ledger.js';
import type { Web } from './webs.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

export class Lanes {
  private stopping = false;
  private paused = false;
  private release: () => void = () => undefined;
  private released = Promise.resolve();
  private readonly running: Promise<void>[] = [];

  constructor(
    private readonly ledger: Ledger,
    private readonly random: Random,
  ) {}

  start(index: number, web: Web): void {
    this.running.push(this.lane(index, web));
  }

  /** No new operations until `resume()`; those under way go on. */
  pause(): void {
    this.paused = true;
    this.released = new Promise((resolve) => (this.release = resolve));
  }

  resume(): void {
    this.paused = false;
    this.release();
  }

  /** No more operations, at once; those under way are not waited for. */
  halt(): void {
    this.stopping = true;
    this.resume();
  }

  /** Halts, then waits for the lanes: what has not resolved within `boundMs` is uncertain. */
  async stop(boundMs: number): Promise<void> {
    this.halt();
    if (await within(Promise.all([...this.running]), boundMs)) return;
    for (const operation of this.ledger.inflight) {
      this.ledger.uncertain(operation);
      this.ledger.problem(
        'operation errors',
        `${operation.kind} via ${operation.web} (photo ${recordOf(operation)}) never resolved`,
      );
    }
  }

  private async lane(index: number, web: Web): Promise<void> {
    const { ledger } = this;
    const rng = this.random.derive(`lane ${index}`);
    const live: number[] = [];
    const hashes = new Set<string>();
    let sequence = 0;
    /** A PNG whose bytes no other file of the run has: lanes draw from disjoint heights. */
    const image = () => {
      for (;;) {
        const bytes = png(rng.int(1, 48), 1 + index * 40 + rng.int(0, 39), rng.int(0, 255));
        const hash = sha256(bytes);
        if (hashes.has(hash)) continue;
        hashes.add(hash);
        return { bytes, hash };
      }
    };
    const attach = async (operation: Operation, photo: Photo) => {
      const { bytes, hash } = image();
      const filename = `lane${index}-${sequence}.png`;
      const { attachments } = web.harness;
      // Half through a token, as a browser upload does, half from a buffer on the server.
      const file = rng.chance(0.5)
        ? await attachments.attach(
            photo,
            'image',
            (await attachments.cache(bytes, { filename })).token,
          )
        : await attachments.attach(photo, 'image', bytes, { filename });
      operation.upload = `cache:${file!.id}`;
      operation.outcome = { kind: 'file', sha256: hash };
      return hash;
    };

    while (!this.stopping) {
      if (this.paused) await this.released;
      if (this.stopping) break;
      sequence++;
      const draw = rng.next();
      const kind = live.length < 5 || draw < 0.45 ? 'save' : draw < 0.8 ? 'replace' : 'remove';
      const operation = ledger.begin(kind, web.name, index);
      const photos = web.dataSource.getRepository(Photo);
      try {
        if (kind === 'save') {
          const photo = photos.create({ title: `lane ${index} #${sequence}` });
          operation.photo = photo;
          const hash = await attach(operation, photo);
          await this.persist(() => photos.save(photo));
          ledger.saved(operation, photo.id, hash);
          live.push(photo.id);
        } else {
          const id = rng.pick(live);
          const photo = await photos.findOneBy({ id });
          live.splice(live.indexOf(id), 1); // back in the list once acknowledged
          if (!photo) {
            ledger.problem('lost', `photo ${id}: its row vanished during the run`);
            continue;
          }
          operation.photo = photo;
          operation.recordId = id;
          if (kind === 'replace') {
            const hash = await attach(operation, photo);
            await this.persist(() => photos.save(photo));
            ledger.replaced(operation, id, hash);
            live.push(id);
          } else {
            operation.outcome = { kind: 'absent' };
            await this.persist(() => photos.remove(photo));
            ledger.removed(operation, id);
          }
        }
      } catch (error) {
        ledger.figures.operationErrors++;
        ledger.uncertain(operation);
        ledger.problem(
          'operation errors',
          `${ledger.clock()} ${kind} via ${web.name} (photo ${recordOf(operation)}): ${String(error)}`,
        );
      } finally {
        ledger.end(operation);
      }
      await sleep(rng.int(150, 350)); // about 4 operations a second per lane
    }
  }

  /**
   * Runs a save or a remove as an app on InnoDB must: MySQL and MariaDB end one of two
   * transactions that wait on each other's row locks with a deadlock error, having rolled it
   * back whole, and the application is expected to run it again. Counted, so the run shows
   * how often it happened.
   */
  private async persist<T>(write: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await write();
      } catch (error) {
        if (attempt >= 3 || !/Deadlock found when trying to get lock/.test(String(error))) {
          throw error;
        }
        this.ledger.figures.deadlocksRetried++;
      }
    }
  }
}
