/**
 * Scenario: what the scheduled upkeep costs against how much of it is due. Each step runs on a
 * side holding a large backlog of which 1% is due (ours) and on a side holding only what is
 * due (the floor: the least a correct pass must touch), alternately; ratio = ours / floor.
 * A pass whose cost follows what is due, not what is stored, stays near 1.
 */
import { mkdir, mkdtemp, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchOptions, BenchRow, BenchScenario } from '../lib/result.js';
import { median, sideBySide, timed } from '../lib/stats.js';
import { rssGrowthDuring } from '../upload/process-memory.js';
import { explainRecorded, type PlanSummary } from '../upkeep/query-plans.js';
import { insertClaims, insertWork, makeWorkDue, writeCachedFiles } from '../upkeep/seed.js';
import {
  CACHE_TTL_MS,
  startUpkeepSide,
  UpkeepRecord,
  type UpkeepSide,
} from '../upkeep/upkeep-app.js';

const DUE_EVERY = 100; // 1% due
const GOAL = { at: 'most', ratio: 2 } as const;

interface Sides {
  ours: UpkeepSide;
  floor: UpkeepSide;
}

const count = (n: number) => n.toLocaleString('en-US');
const planText = (plan: PlanSummary) => `${plan.scan}, ${count(plan.rowsRead)} rows read`;

function progress(line: string) {
  process.stdout.write(`  ${line}\n`);
}

async function relayRow({ ours, floor }: Sides, total: number, reps: number): Promise<BenchRow> {
  const due = total / DUE_EVERY;
  const entity = UpkeepRecord.name;
  await insertWork(ours.db.dataSource, { from: 1, to: total, dueEvery: DUE_EVERY, entity });
  await insertWork(floor.db.dataSource, { from: 1, to: due, dueEvery: 1, entity });
  // The first pass sends every due row's job: the measured passes find them queued, as a
  // relay does in steady state, and check each against the queue.
  for (const side of [ours, floor]) await side.relay.pass();
  const checked: number[] = [];
  const pass = (side: UpkeepSide) => async () => {
    await makeWorkDue(side.db.dataSource);
    return timed(async () => {
      const result = await side.relay.pass();
      if (result.checked !== due) throw new Error(`relay checked ${result.checked} of ${due}`);
      checked.push(result.checked);
    });
  };
  const times = await sideBySide(reps, pass(floor), pass(ours));
  await makeWorkDue(ours.db.dataSource);
  const queries = await ours.recorder.during(() => ours.relay.pass());
  await makeWorkDue(ours.db.dataSource);
  const plan = await explainRecorded(
    ours.db.dataSource,
    queries,
    /^SELECT[\s\S]+FROM "attachment_work"/,
    'attachment_work',
  );
  return {
    case: `relay pass: ${count(total)} pending rows, 1% due`,
    metric: 'ms per pass',
    baseline: times.baseline,
    subject: times.subject,
    ratio: times.subject / times.baseline,
    repetitions: reps,
    goal: GOAL,
    extra: { 'due / checked': `${count(due)} / ${count(median(checked))}`, plan: planText(plan) },
  };
}

async function forRecordRow({ ours, floor }: Sides, reps: number): Promise<BenchRow> {
  const sizes = { ours: 100_000, floor: 1_000 };
  const record = Object.assign(new UpkeepRecord(), { id: 500 });
  for (const [side, rows] of [
    [ours, sizes.ours],
    [floor, sizes.floor],
  ] as const) {
    await side.db.dataSource.query('TRUNCATE attachment_work');
    await insertWork(side.db.dataSource, {
      from: 1,
      to: rows,
      dueEvery: DUE_EVERY,
      entity: UpkeepRecord.name,
    });
  }
  const look = (side: UpkeepSide) => () =>
    timed(async () => {
      const work = await side.work.forRecord(record);
      if (work.length !== 1) throw new Error(`forRecord found ${work.length} rows, not 1`);
    });
  const times = await sideBySide(reps, look(floor), look(ours));
  const plans: PlanSummary[] = [];
  for (const side of [ours, floor]) {
    const queries = await side.recorder.during(() => side.work.forRecord(record));
    plans.push(
      await explainRecorded(
        side.db.dataSource,
        queries,
        /FROM "attachment_work"/,
        'attachment_work',
      ),
    );
  }
  return {
    case: `forRecord(): ${count(sizes.ours)} outbox rows (floor ${count(sizes.floor)})`,
    metric: 'ms per call',
    baseline: times.baseline,
    subject: times.subject,
    ratio: times.subject / times.baseline,
    repetitions: reps,
    goal: GOAL,
    extra: { plan: planText(plans[0]!), 'floor plan': planText(plans[1]!) },
  };
}

async function emptyCache(side: UpkeepSide): Promise<void> {
  await rm(side.cacheDirectory, { recursive: true, force: true });
  await mkdir(side.cacheDirectory, { recursive: true });
}

async function cacheRow({ ours, floor }: Sides, files: number, reps: number): Promise<BenchRow> {
  const expired = files / DUE_EVERY;
  // About one 4 KB block and an inode per file; keep twice that free for the filesystem.
  const disk = await statfs(ours.cacheDirectory);
  if (disk.bavail * disk.bsize < files * 8192 || disk.ffree < files * 2) {
    throw new Error(`not enough free disk or inodes for ${count(files)} cached files`);
  }
  for (const side of [ours, floor]) await side.db.dataSource.query('TRUNCATE attachment_work');
  const started = Date.now();
  await writeCachedFiles(ours.cacheDirectory, {
    count: files,
    expiredEvery: DUE_EVERY,
    ttl: CACHE_TTL_MS,
  });
  await writeCachedFiles(floor.cacheDirectory, {
    count: expired,
    expiredEvery: 1,
    ttl: CACHE_TTL_MS,
  });
  progress(
    `${count(files)} cached files written in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  const growth = { ours: [] as number[], floor: [] as number[] };
  const seeded = new Set<UpkeepSide>([ours, floor]);
  const sweep = (side: UpkeepSide, key: keyof typeof growth) => async () => {
    // Each sweep deletes the expired files: put as many back before the next one.
    if (!seeded.has(side)) {
      await writeCachedFiles(side.cacheDirectory, {
        count: expired,
        expiredEvery: 1,
        ttl: CACHE_TTL_MS,
      });
    }
    seeded.delete(side);
    let ms = 0;
    growth[key].push(
      await rssGrowthDuring('self', async () => {
        ms = await timed(async () => {
          const result = await side.work.sweep();
          if (result.deletedCachedFiles !== expired) {
            throw new Error(`sweep deleted ${result.deletedCachedFiles} of ${expired} files`);
          }
        });
      }),
    );
    return ms;
  };
  const times = await sideBySide(reps, sweep(floor, 'floor'), sweep(ours, 'ours'));
  await Promise.all([emptyCache(ours), emptyCache(floor)]);
  return {
    case: `cache sweep: ${count(files)} cached files, 1% expired`,
    metric: 'ms per sweep',
    baseline: times.baseline,
    subject: times.subject,
    ratio: times.subject / times.baseline,
    repetitions: reps,
    goal: GOAL,
    extra: {
      'due / checked': `${count(expired)} / ${count(files)}`,
      'RSS growth MB': median(growth.ours),
      'floor RSS growth MB': median(growth.floor),
    },
  };
}

async function claimsRow({ ours, floor }: Sides, claims: number, reps: number): Promise<BenchRow> {
  const expired = claims / DUE_EVERY;
  let tags = 0;
  const reseed = (side: UpkeepSide) =>
    insertClaims(side.db.dataSource, { tag: `c${tags++}-`, count: expired, expiredEvery: 1 });
  await insertClaims(ours.db.dataSource, {
    tag: `c${tags++}-`,
    count: claims,
    expiredEvery: DUE_EVERY,
  });
  await reseed(floor);
  for (const side of [ours, floor])
    await side.db.dataSource.query('VACUUM ANALYZE attachment_claims');
  const seeded = new Set<UpkeepSide>([ours, floor]);
  const sweep = (side: UpkeepSide) => async () => {
    if (!seeded.has(side)) await reseed(side);
    seeded.delete(side);
    return timed(async () => {
      const result = await side.work.sweep();
      if (result.removedClaims !== expired) {
        throw new Error(`sweep removed ${result.removedClaims} of ${expired} claims`);
      }
    });
  };
  const times = await sideBySide(reps, sweep(floor), sweep(ours));
  await reseed(ours);
  const queries = await ours.recorder.during(() => ours.work.sweep());
  await reseed(ours);
  const plan = await explainRecorded(
    ours.db.dataSource,
    queries,
    /^DELETE FROM "attachment_claims"/,
    'attachment_claims',
  );
  return {
    case: `expired claims: ${count(claims)} claims, 1% expired`,
    metric: 'ms per sweep',
    baseline: times.baseline,
    subject: times.subject,
    ratio: times.subject / times.baseline,
    repetitions: reps,
    goal: GOAL,
    extra: { 'due / checked': `${count(expired)} / ${count(plan.rowsRead)}`, plan: planText(plan) },
  };
}

export default async function upkeep(options: BenchOptions): Promise<BenchScenario> {
  const size = options.quick
    ? { outbox: 20_000, files: 100_000, claims: 200_000 }
    : { outbox: 100_000, files: 1_000_000, claims: 1_000_000 };
  const reps = options.quick
    ? { relay: 5, forRecord: 51, sweep: 3, claims: 5 }
    : { relay: 9, forRecord: 101, sweep: 3, claims: 7 };
  const root = await mkdtemp(join(tmpdir(), 'bench-upkeep-'));
  const sides: Partial<Sides> = {};
  try {
    sides.ours = await startUpkeepSide(join(root, 'ours'));
    sides.floor = await startUpkeepSide(join(root, 'floor'));
    const both = sides as Sides;
    const rows: BenchRow[] = [];
    rows.push(await relayRow(both, size.outbox, reps.relay));
    progress('relay measured');
    rows.push(await forRecordRow(both, reps.forRecord));
    progress('forRecord measured');
    rows.push(await cacheRow(both, size.files, reps.sweep));
    progress('cache sweep measured');
    rows.push(await claimsRow(both, size.claims, reps.claims));
    return {
      id: 'upkeep',
      title: 'Upkeep against what is due',
      subject:
        'the scheduled relay pass, forRecord() and AttachmentWorkService.sweep() on tables and a ' +
        'filesystem cache holding a large backlog, 1% of it due',
      baseline: 'the same call on tables and a cache holding only what is due (the floor)',
      better: 'lower',
      rows,
      notes: NOTES,
    };
  } finally {
    await sides.ours?.close();
    await sides.floor?.close();
    await rm(root, { recursive: true, force: true });
  }
}

const NOTES = [
  "Each side is a fresh PostgreSQL database with the library's tables, a filesystem cache " +
    'storage and a Nest app with no worker; both sides run in this process, alternately. ' +
    'Rows are inserted in bulk with SQL, cached files written directly, named as the library ' +
    'names them (a time-ordered UUID of the time each was written and an extension, in the ' +
    "cache's root) and aged with utimes.",
  'relay pass: WorkRelay.pass(), the pass the worker runs on its timer (only rows whose check ' +
    'is due); each rep first makes the due rows due again. Their jobs are queued by an earlier ' +
    'pass, so each pass reads the due rows and asks the queue about each. "checked" is what the ' +
    "pass reports it checked; the plan is that of its first batch's query. " +
    'AttachmentWorkService.relay() checks every pending row by design and is not measured here.',
  'forRecord(): the work of one record (one row) among 100,000 outbox rows, against 1,000.',
  'cache sweep: one sweep() with no pending work, deleting the expired files; each rep first ' +
    'writes as many expired files back. "checked" is the files in the cache. RSS growth: this ' +
    "process's peak RSS during the sweep (VmHWM, reset just before) minus its RSS before it; " +
    'garbage from earlier steps may absorb some of it.',
  'expired claims: one sweep() on an empty cache, whose cost is the delete of expired claims; ' +
    'each rep first inserts as many expired claims back. "checked" and the plan come from ' +
    'EXPLAIN (ANALYZE) of the DELETE the sweep sent, replayed in a transaction rolled back.',
];
