/**
 * The final checks: every acknowledged change holds (the bytes in the store hash as expected,
 * removed rows are gone), and every file is referenced and every reference a file.
 */
import { createHash } from 'node:crypto';
import { In, type DataSource } from 'typeorm';
import { AttachmentWork } from '../../../src/index.js';
import { Photo } from '../entities.js';
import { referencedFiles, storedFiles, type Harness } from '../harness.js';
import { describeOutcome, short, type Expectation, type Ledger } from './ledger.js';

export interface RecordsChecked {
  lost: string[];
  /** Records whose changes were all acknowledged, by their expected end. */
  live: number;
  removed: number;
  /** Records an operation left unresolved. */
  uncertain: number;
}

async function hashOf(web: Harness, storage: string, id: string): Promise<string | null> {
  try {
    const hash = createHash('sha256');
    for await (const chunk of await web.storages[storage]!.open(id)) hash.update(chunk);
    return hash.digest('hex');
  } catch {
    return null;
  }
}

/** What the row (or its absence) shows, and whether the expectation allows it. */
async function inspect(
  web: Harness,
  expectation: Expectation,
  row: Photo | undefined,
): Promise<{ found: string; ok: boolean }> {
  if (!row) {
    return { found: 'no row', ok: expectation.outcomes.some((o) => o.kind === 'absent') };
  }
  if (!row.image) return { found: 'a row with no file', ok: false };
  if (row.image.storage !== 'store') {
    return { found: `its file still in ${row.image.storage} (${row.image.id})`, ok: false };
  }
  const hash = await hashOf(web, 'store', row.image.id);
  return {
    found: hash ? `store:${row.image.id} with ${short(hash)}` : `store:${row.image.id} missing`,
    ok: expectation.outcomes.some((o) => o.kind === 'file' && o.sha256 === hash),
  };
}

export async function checkRecords(
  ledger: Ledger,
  web: Harness,
  dataSource: DataSource,
): Promise<RecordsChecked> {
  const rows = await dataSource.getRepository(Photo).find();
  const byId = new Map(rows.map((row) => [row.id, row]));
  const checked: RecordsChecked = { lost: [], live: 0, removed: 0, uncertain: 0 };
  for (const [id, expectation] of ledger.expectations) {
    const row = byId.get(id);
    byId.delete(id);
    const { found, ok } = await inspect(web, expectation, row);
    if (expectation.uncertain) checked.uncertain++;
    else if (expectation.outcomes.some((outcome) => outcome.kind === 'file')) checked.live++;
    else checked.removed++;
    if (ok) continue;
    const work = await dataSource
      .getRepository(AttachmentWork)
      .findBy({ recordId: In([JSON.stringify({ id })]) });
    checked.lost.push(
      `photo ${id}: expected ${expectation.outcomes.map(describeOutcome).join(' or ')}, ` +
        `found ${found}; history: ${expectation.history.slice(-3).join('; ')}` +
        (work.length ? `; work: ${work.map((row) => `${row.kind} ${row.status}`).join(', ')}` : ''),
    );
  }
  for (const row of byId.values()) checked.lost.push(`photo ${row.id}: a row no operation made`);
  return checked;
}

/** Stored files no record references (the uploads of unresolved operations aside), and the other way round. */
export async function checkFiles(
  ledger: Ledger,
  web: Harness,
  dataSource: DataSource,
): Promise<{ orphaned: string[]; missing: string[] }> {
  const stored = await storedFiles(web.storages);
  const referenced = await referencedFiles(dataSource, [{ entity: Photo, properties: ['image'] }]);
  const referencedSet = new Set(referenced);
  const storedSet = new Set(stored);
  return {
    orphaned: stored.filter((key) => !referencedSet.has(key) && !ledger.abandonedUploads.has(key)),
    missing: referenced.filter((key) => !storedSet.has(key)),
  };
}
