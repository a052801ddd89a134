/**
 * Scenario 6: promotions per second of the worker alone, draining a backlog, at several worker
 * concurrencies, beside a floor: a plain BullMQ worker doing the least a correct promotion
 * needs on the same tables. Each run gets a fresh backlog and a fresh worker process; the two
 * sides alternate, and the medians are compared.
 */
import pg from 'pg';
import type { BenchOptions, BenchRow, BenchScenario } from '../lib/result.js';
import { median } from '../lib/stats.js';
import { lineChart } from '../lib/svg-chart.js';
import { makeBacklog } from '../worker-throughput/backlog.js';
import { within } from '../worker-throughput/deadline.js';
import { drainInChild } from '../worker-throughput/drain.js';
import { POOL_SIZE, type WorkerSide } from '../worker-throughput/protocol.js';

const CONCURRENCIES = [1, 10, 50];
const GOAL = 0.8;
const SIDES: readonly WorkerSide[] = ['floor', 'ours'];
const QUERY_TIMEOUT_MS = 10_000;

interface RunResult {
  rate: number;
  cpuMsPerPromotion: number;
  commitsPerPromotion: number;
}

/** A client of the server's `postgres` database, which reads the bench databases' counters. */
async function statisticsClient(databaseUrl: string): Promise<pg.Client> {
  const url = new URL(databaseUrl);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.href, query_timeout: QUERY_TIMEOUT_MS });
  await client.connect();
  return client;
}

async function measureRun(
  side: WorkerSide,
  concurrency: number,
  count: number,
  statistics: { client?: pg.Client },
): Promise<RunResult> {
  // Generous bounds: a stuck step fails the bench with its name instead of hanging it.
  const backlog = await within(
    60_000 + count * 200,
    () => `a backlog of ${count} saves`,
    makeBacklog(count),
  );
  try {
    statistics.client ??= await statisticsClient(backlog.databaseUrl);
    const client = statistics.client;
    const commitCount = async () => {
      const { rows } = await client.query<{ commits: string }>(
        'SELECT xact_commit AS commits FROM pg_stat_database WHERE datname = $1',
        [backlog.databaseName],
      );
      return Number(rows[0]!.commits);
    };
    const timeoutMs = Math.max(60_000, count * 100);
    const drain = await drainInChild(
      backlog.config(side, concurrency, timeoutMs),
      backlog.workIds,
      commitCount,
    );
    await within(60_000, () => `the check of ${side}'s promotions`, backlog.verify(side));
    const result = {
      rate: count / (drain.elapsedMs / 1000),
      cpuMsPerPromotion: drain.cpuMs / count,
      commitsPerPromotion: drain.commits / count,
    };
    process.stdout.write(
      `  concurrency ${concurrency}, ${side}: ${result.rate.toFixed(0)} per s, ` +
        `${result.cpuMsPerPromotion.toFixed(2)} CPU ms and ` +
        `${result.commitsPerPromotion.toFixed(2)} commits per promotion\n`,
    );
    return result;
  } finally {
    await backlog.close();
  }
}

const list = (values: number[]) => values.map((value) => value.toFixed(0)).join(', ');

export default async function workerThroughput({ quick }: BenchOptions): Promise<BenchScenario> {
  const count = quick ? 200 : 600;
  const repetitions = quick ? 2 : 3;
  const rows: BenchRow[] = [];
  const medians: Record<WorkerSide, { x: number; y: number }[]> = { ours: [], floor: [] };
  const statistics: { client?: pg.Client } = {};
  try {
    for (const concurrency of CONCURRENCIES) {
      const runs: Record<WorkerSide, RunResult[]> = { ours: [], floor: [] };
      for (let i = 0; i < repetitions; i++) {
        // Alternate which side goes first, so drift in the machine's load falls on both alike.
        const order = i % 2 === 0 ? SIDES : [...SIDES].reverse();
        for (const side of order) {
          runs[side].push(await measureRun(side, concurrency, count, statistics));
        }
      }
      const of = (side: WorkerSide, key: keyof RunResult) =>
        median(runs[side].map((run) => run[key]));
      const subject = of('ours', 'rate');
      const baseline = of('floor', 'rate');
      medians.ours.push({ x: concurrency, y: subject });
      medians.floor.push({ x: concurrency, y: baseline });
      rows.push({
        case: `concurrency ${concurrency}`,
        metric: 'promotions per second (worker alone)',
        baseline,
        subject,
        ratio: subject / baseline,
        repetitions,
        goal: { at: 'least', ratio: GOAL },
        extra: {
          'CPU ms per promotion (ours)': of('ours', 'cpuMsPerPromotion'),
          'CPU ms per promotion (floor)': of('floor', 'cpuMsPerPromotion'),
          'commits per promotion (ours)': of('ours', 'commitsPerPromotion'),
          'commits per promotion (floor)': of('floor', 'commitsPerPromotion'),
          'runs per s (ours)': list(runs.ours.map((run) => run.rate)),
          'runs per s (floor)': list(runs.floor.map((run) => run.rate)),
        },
      });
    }
  } finally {
    await statistics.client?.end();
  }
  const chart = lineChart({
    title: `Worker alone: promotions per second (${count} small PNGs)`,
    xLabel: 'worker concurrency',
    yLabel: 'promotions per second (median)',
    xScale: 'log',
    xTicks: CONCURRENCIES,
    series: [
      { name: 'ours (AttachmentsModule worker)', points: medians.ours },
      { name: 'floor (plain BullMQ worker + pg)', points: medians.floor },
      {
        name: `goal: ${GOAL} × floor`,
        points: medians.floor.map(({ x, y }) => ({ x, y: y * GOAL })),
        dashed: true,
      },
    ],
  });
  return {
    id: 'worker-throughput',
    title: 'Worker throughput: promotions per second of the worker alone, against its floor',
    subject: `a worker-only process (a Nest application context with AttachmentsModule.forRoot() and a worker at the given concurrency) draining a backlog of ${count} promote jobs of small PNGs (PostgreSQL, filesystem storages, hard links)`,
    baseline: `a plain BullMQ worker with a pg pool of ${POOL_SIZE} draining the same kind of backlog with the least a correct promotion needs`,
    better: 'higher',
    rows,
    notes: [
      `Each run makes a fresh backlog: a new PostgreSQL database and queue prefix, and a web-only app (\`worker: false\`) that saves ${count} photos, each with a PNG uploaded through \`attachments.cache()\` and attached by its token, while the queue is paused. ${count} promote jobs then wait in Redis and ${count} outbox rows are pending. Then one worker process (a child, built JS) drains it; afterwards every record must hold a stored file that exists in the store, and no promotion may be left in the outbox.`,
      `Per job, ours does whatever the library's promote handler does at the commit measured; the commits column shows it. At the commit of these results that is: one statement reading whether the outbox row is pending together with the column, the hard link, a check that the row is still pending (a run that outlived its lock must not leave a copy behind), then one transaction with the conditional UPDATE of the column and one statement that DELETEs the outbox row and INSERTs the delayed deletion of the cached copy, then that deletion's job added to Redis (the deletion is delayed past the run and never runs in it): 3 commits. The floor reads the column by id, hard links the cached file into the store (making its folder), then in one transaction UPDATEs the column to the stored file only where it still holds the cached one (\`col->>'id'\`) and DELETEs the outbox row: 2 commits.`,
      `Boot is excluded: each child boots (Nest and TypeORM, or BullMQ and pg), starts its worker on the still paused queue, opens all ${POOL_SIZE} pool connections, and only then resumes the queue and starts its clock; the clock stops at the completion of the backlog's last promote job, which both sides read the same way (a QueueEvents reader of the queue's event stream, whose CPU is in both figures). CPU ms per promotion is the child's process.cpuUsage() (user + system) over that span, divided by ${count}.`,
      `Commits per promotion: the database's xact_commit in pg_stat_database before and after the drain, each child having every pool connection flush its counters (pg_stat_force_next_flush()) at both ends; the flushes' own commits are taken off. Each autocommitted statement counts as one.`,
      'Both sides share the machine’s cores with PostgreSQL, Redis and the parent process (idle during the drain); the floor is a floor for this machine, not a constant. Runs per s list each repetition, in order.',
    ],
    charts: [
      {
        file: 'worker-throughput.svg',
        title: 'Promotions per second of the worker alone against concurrency, ours and floor',
        svg: chart,
      },
    ],
  };
}
