/** The fault run's figures, and its verdict: every problem found, with the seed to replay it. */
import assert from 'node:assert/strict';
import type { RecordsChecked } from './checks.js';
import type { Ledger } from './ledger.js';
import { CONCURRENCY, SEED, WORKER_POOL } from './settings.js';
import type { Settled } from './settle.js';

export interface Results {
  chaosEnd: number;
  /** From the end of the chaos to the first settling. */
  settleMs: number;
  first: Settled;
  /** After the retry of failed work (the first one again when nothing failed). */
  last: Settled;
  records: RecordsChecked;
  orphaned: string[];
  missing: string[];
  stuck: string[];
  failed: number;
  stillFailed: number;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

export const list = (items: readonly string[], limit = 25) =>
  items.length <= limit
    ? items.join('\n  ')
    : `${items.slice(0, limit).join('\n  ')}\n  … and ${items.length - limit} more`;

export function figures(ledger: Ledger, results: Results): string[] {
  const { figures } = ledger;
  const { records } = results;
  const atStep = Object.entries(figures.strikesAtStep)
    .map(([step, n]) => `${step} ${n}`)
    .join(', ');
  const outages = figures.outages.map(
    (entry) =>
      `#${entry.index} ${seconds(entry.durationMs)}, acknowledged ` +
      ([...entry.acks].map(([name, count]) => `${name} ${count}`).join(', ') || 'none') +
      `, blocked ${entry.blocked.length}`,
  );
  const queue = Object.entries(results.last.counts)
    .map(([state, n]) => `${state} ${n}`)
    .join(', ');
  return [
    `seed ${SEED}; workers of concurrency ${CONCURRENCY}, database pool ${WORKER_POOL ?? 'default (10)'}`,
    `duration ${seconds(Date.now() - ledger.startedAt)} (chaos ${seconds(results.chaosEnd - ledger.startedAt)}, ` +
      `settling ${seconds(results.settleMs)}${results.first.idle ? '' : ' without reaching idle'})`,
    `kills ${figures.kills} (${figures.killsDuringBoot} during boot, ${figures.freezes} after a freeze of 2-5 s; ` +
      `at a step: ${atStep})${figures.cutShort ? ', cut short by the chaos time cap' : ''}, ` +
      `worker boot failures ${figures.workerBootFailures}, crashes ${figures.workerCrashes}`,
    `redis outages ${figures.outages.length}: ${outages.join('; ')}`,
    `records saved ${figures.saved}, replaced ${figures.replaced}, removed ${figures.removed}, ` +
      `operation errors ${figures.operationErrors}, deadlocks retried ${figures.deadlocksRetried}`,
    `at the end: ${records.live} live, ${records.removed} removed, ${records.uncertain} uncertain ` +
      `(an operation did not resolve)`,
    `lost ${records.lost.length}, orphaned files ${results.orphaned.length}, missing files ${results.missing.length}`,
    `queue at the end: ${queue}`,
    `stuck work ${results.stuck.length}, failed then retried ${results.failed} ` +
      `(still failed after retry ${results.stillFailed})`,
  ];
}

/** Fails with every problem the ledger holds, and the figures. */
export function assertNoProblems(ledger: Ledger, summary: readonly string[]): void {
  const report = [...ledger.problems].map(
    ([category, details]) => `${category}:\n  ${details.join('\n  ')}`,
  );
  assert.equal(
    report.length,
    0,
    `fault run (FAULT_SEED=${SEED}) found:\n${report.join('\n')}\n  ${summary.join('\n  ')}`,
  );
}
