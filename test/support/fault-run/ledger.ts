/**
 * What the fault run knows: the state each record must end in, the operations under way, the
 * problems found along the way, and the figures it reports.
 */
import type { Photo } from '../entities.js';
import { STEPS, type Step } from './settings.js';

export type Outcome = { kind: 'absent' } | { kind: 'file'; sha256: string };

/** What the test knows a record must end as. */
export interface Expectation {
  /** Acceptable final states: one after an acknowledged change, more after an unresolved one. */
  outcomes: Outcome[];
  /** An operation on it did not resolve: it is checked against every outcome, and left alone. */
  uncertain: boolean;
  history: string[];
}

export interface Operation {
  kind: 'save' | 'replace' | 'remove';
  web: string;
  lane: number;
  /** Index of the Redis outage it started in, if any. */
  outage: number | null;
  startedAt: number;
  /** Its id may be set while a save is under way, before the save resolves. */
  photo?: Photo;
  /** Kept apart: TypeORM clears `photo.id` once the row is removed. */
  recordId?: number;
  outcome?: Outcome;
  /** `cache:<id>` of the file it uploaded. */
  upload?: string;
}

export interface Outage {
  index: number;
  startedAt: number;
  durationMs: number;
  acks: Map<string, number>;
  lateWeb: string | null;
  blocked: string[];
}

export const short = (hash: string) => hash.slice(0, 10);
export const recordOf = (operation: Operation) =>
  operation.recordId ?? operation.photo?.id ?? 'new';
export const describeOutcome = (outcome: Outcome) =>
  outcome.kind === 'absent' ? 'absent' : `file ${short(outcome.sha256)}`;

export class Ledger {
  readonly startedAt = Date.now();
  readonly expectations = new Map<number, Expectation>();
  /** Files uploaded by operations that did not resolve: left in the cache, they are no orphans. */
  readonly abandonedUploads = new Set<string>();
  readonly inflight = new Set<Operation>();
  readonly problems = new Map<string, string[]>();
  /** The Redis outage under way. */
  outage: Outage | null = null;
  readonly figures = {
    saved: 0,
    replaced: 0,
    removed: 0,
    operationErrors: 0,
    /** Saves and removes that InnoDB chose as a deadlock's victim, rolled back and run again. */
    deadlocksRetried: 0,
    kills: 0,
    killsDuringBoot: 0,
    freezes: 0,
    strikesAtStep: Object.fromEntries(STEPS.map((step) => [step, 0])) as Record<Step, number>,
    workerBootFailures: 0,
    workerCrashes: 0,
    outages: [] as Outage[],
    /** The chaos ended at its time cap, before all its kills and outages. */
    cutShort: false,
  };

  clock(): string {
    return `t+${((Date.now() - this.startedAt) / 1000).toFixed(1)}s`;
  }

  problem(category: string, detail: string): void {
    this.problems.set(category, [...(this.problems.get(category) ?? []), detail]);
  }

  /** An operation begins: tagged with the outage it starts in. */
  begin(kind: Operation['kind'], web: string, lane: number): Operation {
    const operation: Operation = {
      kind,
      web,
      lane,
      outage: this.outage?.index ?? null,
      startedAt: Date.now(),
    };
    this.inflight.add(operation);
    return operation;
  }

  end(operation: Operation): void {
    this.inflight.delete(operation);
  }

  saved(operation: Operation, id: number, hash: string): void {
    operation.recordId = id;
    this.expectations.set(id, {
      outcomes: [{ kind: 'file', sha256: hash }],
      uncertain: false,
      history: [`${this.clock()} saved ${short(hash)} via ${operation.web}`],
    });
    this.figures.saved++;
    this.acknowledged(operation);
  }

  replaced(operation: Operation, id: number, hash: string): void {
    const expectation = this.expectations.get(id)!;
    expectation.outcomes = [{ kind: 'file', sha256: hash }];
    expectation.history.push(`${this.clock()} replaced by ${short(hash)} via ${operation.web}`);
    this.figures.replaced++;
    this.acknowledged(operation);
  }

  removed(operation: Operation, id: number): void {
    const expectation = this.expectations.get(id)!;
    expectation.outcomes = [{ kind: 'absent' }];
    expectation.history.push(`${this.clock()} removed via ${operation.web}`);
    this.figures.removed++;
    this.acknowledged(operation);
  }

  /** An operation that did not resolve: its record may end as before, or as it would have made it. */
  uncertain(operation: Operation): void {
    if (operation.upload) this.abandonedUploads.add(operation.upload);
    const id = operation.recordId ?? operation.photo?.id;
    if (id === undefined || !operation.outcome) return;
    const expectation = this.expectations.get(id) ?? {
      outcomes: [{ kind: 'absent' }],
      uncertain: true,
      history: [],
    };
    expectation.outcomes.push(operation.outcome);
    expectation.uncertain = true;
    expectation.history.push(`${this.clock()} ${operation.kind} via ${operation.web} unresolved`);
    this.expectations.set(id, expectation);
  }

  /** Counts towards the outage it started in, if that outage is still under way. */
  private acknowledged(operation: Operation): void {
    const outage = this.outage;
    if (operation.outage === null || outage?.index !== operation.outage) return;
    outage.acks.set(operation.web, (outage.acks.get(operation.web) ?? 0) + 1);
  }
}
