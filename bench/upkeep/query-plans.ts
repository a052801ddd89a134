/**
 * What the library's queries read, found without knowing them in advance: a recorder takes the
 * SQL a call sends (as TypeORM logs it), and EXPLAIN (ANALYZE) replays one of them.
 */
import type { DataSource, Logger } from 'typeorm';

export interface RecordedQuery {
  sql: string;
  parameters: unknown[];
}

/** A TypeORM logger that keeps the queries sent while `during` runs, and prints nothing. */
export class QueryRecorder implements Logger {
  private recording: RecordedQuery[] | null = null;

  static attach(dataSource: DataSource): QueryRecorder {
    const recorder = new QueryRecorder();
    dataSource.setOptions({ logger: recorder });
    return recorder;
  }

  async during(work: () => Promise<unknown>): Promise<RecordedQuery[]> {
    const recorded: RecordedQuery[] = [];
    this.recording = recorded;
    try {
      await work();
    } finally {
      this.recording = null;
    }
    return recorded;
  }

  logQuery(sql: string, parameters?: unknown[]): void {
    this.recording?.push({ sql, parameters: parameters ?? [] });
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

export interface PlanSummary {
  /** How PostgreSQL reached the table's rows: `seq scan`, `index scan`, `bitmap heap scan`... */
  scan: string;
  /** Rows the scan looked at: the rows it returned plus those its filter threw away. */
  rowsRead: number;
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

/**
 * Runs EXPLAIN (ANALYZE) of the first recorded query that matches, inside a transaction that
 * is rolled back (an analysed DELETE really deletes), and summarises how `table` was read.
 */
export async function explainRecorded(
  dataSource: DataSource,
  queries: RecordedQuery[],
  matches: RegExp,
  table: string,
): Promise<PlanSummary> {
  const query = queries.find((candidate) => matches.test(candidate.sql));
  if (!query) throw new Error(`no recorded query matches ${matches}`);
  const runner = dataSource.createQueryRunner();
  await runner.startTransaction();
  try {
    const answer = (await runner.query(
      `EXPLAIN (ANALYZE, FORMAT JSON) ${query.sql}`,
      query.parameters,
    )) as { 'QUERY PLAN': { Plan: PlanNode }[] }[];
    const scans = nodesOn(answer[0]!['QUERY PLAN'][0]!.Plan, table);
    if (scans.length === 0) throw new Error(`the plan does not read ${table}`);
    return {
      scan: [...new Set(scans.map((node) => node['Node Type'].toLowerCase()))].join(' + '),
      rowsRead: scans.reduce(
        (sum, node) =>
          sum +
          ((node['Actual Rows'] ?? 0) +
            (node['Rows Removed by Filter'] ?? 0) +
            (node['Rows Removed by Index Recheck'] ?? 0)) *
            (node['Actual Loops'] ?? 1),
        0,
      ),
    };
  } finally {
    await runner.rollbackTransaction();
    await runner.release();
  }
}

/** The plan's nodes that read `table` itself (not one of its indexes alone). */
function nodesOn(node: PlanNode, table: string): PlanNode[] {
  const own = node['Relation Name'] === table && / Scan$/.test(node['Node Type']) ? [node] : [];
  return [...own, ...(node.Plans ?? []).flatMap((child) => nodesOn(child, table))];
}
