/** Waiting for the work to end once the chaos is over, and what is left when it does not. */
import type { DataSource } from 'typeorm';
import { AttachmentWork } from '../../../src/index.js';
import { jobIdFor } from '../../../src/outbox/job-id.js';
import type { Harness } from '../harness.js';
import { until } from './bounds.js';

export interface StuckRow {
  id: string;
  kind: string;
  status: string;
  recordId: string | null;
  jobState: string;
  lastError: string | null;
}

export interface Settled {
  /** No work pending when it returned. */
  idle: boolean;
  stuck: StuckRow[];
  /** Jobs in BullMQ by state. */
  counts: Record<string, number>;
}

const describeRows = (web: Harness, rows: AttachmentWork[]): Promise<StuckRow[]> =>
  Promise.all(
    rows.map(async (row) => ({
      id: row.id,
      kind: row.kind,
      status: row.status,
      recordId: row.recordId,
      jobState: await web.queue.getJobState(jobIdFor(row.id)),
      lastError: row.lastError?.split('\n')[0] ?? null,
    })),
  );

/**
 * Waits until no work is pending and no job queued or running, or until `boundMs`. Work whose
 * job BullMQ failed or finished is not given up on: the relay sends it again (a job failed for
 * stalling has attempts left) or records its failure on the row.
 */
export async function settle(
  web: Harness,
  dataSource: DataSource,
  boundMs: number,
): Promise<Settled> {
  const works = dataSource.getRepository(AttachmentWork);
  const idle = await until(
    async () => {
      const pending = await works.findBy({ status: 'pending' });
      const counts = await web.queue.getJobCounts(
        'waiting',
        'active',
        'delayed',
        'prioritized',
        'waiting-children',
      );
      return pending.length === 0 && Object.values(counts).every((n) => n === 0);
    },
    boundMs,
    250,
  );
  const stuck = await describeRows(web, await works.findBy({ status: 'pending' }));
  const counts = await web.queue.getJobCounts();
  return { idle: idle && stuck.length === 0, stuck, counts };
}
