/**
 * The end of the fault run, once the chaos is over and one last worker runs: the work
 * settled, failed work retried once, then the checks; it prints the figures and fails with
 * every problem found.
 */
import type { TestContext } from 'node:test';
import type { AttachmentWork } from '../../../src/index.js';
import type { TestDatabase } from '../databases.js';
import type { Harness } from '../harness.js';
import { checkFiles, checkRecords } from './checks.js';
import type { Ledger } from './ledger.js';
import { assertNoProblems, figures, list } from './report.js';
import { RETRY_SETTLE_BOUND_MS, SETTLE_BOUND_MS } from './settings.js';
import { settle } from './settle.js';

const failure = (row: AttachmentWork) =>
  `${row.id} ${row.kind} record ${row.recordId}: ${row.lastError?.split('\n')[0]}`;

export async function verdict(
  t: TestContext,
  ledger: Ledger,
  web: Harness,
  db: TestDatabase,
  chaosEnd: number,
): Promise<void> {
  const first = await settle(web, db.dataSource, SETTLE_BOUND_MS);
  const settleMs = Date.now() - chaosEnd;
  const failed = await web.work.failed(10_000);
  for (const row of failed) await web.work.retry(row.id);
  const last = failed.length > 0 ? await settle(web, db.dataSource, RETRY_SETTLE_BOUND_MS) : first;
  const stillFailed = await web.work.failed(10_000);

  const records = await checkRecords(ledger, web, db.dataSource);
  const { orphaned, missing } = await checkFiles(ledger, web, db.dataSource);
  const stuck = last.stuck.map(
    (row) => `${row.id} ${row.kind} ${row.status} record ${row.recordId} (BullMQ: ${row.jobState})`,
  );

  const summary = figures(ledger, {
    chaosEnd,
    settleMs,
    first,
    last,
    records,
    orphaned,
    missing,
    stuck,
    failed: failed.length,
    stillFailed: stillFailed.length,
  });
  console.log(`fault run figures:\n  ${summary.join('\n  ')}`);
  for (const line of summary) t.diagnostic(line);

  if (records.lost.length) ledger.problem('lost', list(records.lost));
  if (orphaned.length) ledger.problem('orphaned files', list(orphaned));
  if (missing.length) ledger.problem('missing files', list(missing));
  if (stuck.length) ledger.problem('stuck work', list(stuck));
  if (failed.length)
    console.log(`work that failed before the retry:\n  ${list(failed.map(failure), 10)}`);
  if (stillFailed.length) ledger.problem('failed after retry', list(stillFailed.map(failure)));
  assertNoProblems(ledger, summary);
}
