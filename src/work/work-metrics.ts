import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { AttachmentsConfig } from '../config/index.js';
import { answerWithin } from '../core/index.js';
import { AttachmentWork } from '../outbox/index.js';
import { AttachmentMetrics, type WorkTally } from '../telemetry/index.js';

interface TallyRow {
  kind: string;
  status: string;
  count: string | number;
}

/**
 * Feeds the outbox gauges: one grouped count of the outbox per collection, whose answer has at
 * most a row per kind and status whatever the size of the table.
 */
@Injectable()
export class WorkMetrics implements OnModuleInit, OnModuleDestroy {
  private stop: () => void = () => undefined;

  constructor(
    private readonly config: AttachmentsConfig,
    private readonly metrics: AttachmentMetrics,
  ) {}

  onModuleInit(): void {
    // Bounded like a health probe: a reader's scrape must not hang on a stuck database.
    this.stop = this.metrics.observeWork(() =>
      answerWithin(this.config.sendTimeout, () => this.tally()),
    );
  }

  onModuleDestroy(): void {
    this.stop();
  }

  private async tally(): Promise<WorkTally[]> {
    const rows = await this.config.dataSource
      .getRepository(AttachmentWork)
      .createQueryBuilder('work')
      .select('work.kind', 'kind')
      .addSelect('work.status', 'status')
      .addSelect('COUNT(*)', 'count')
      .groupBy('work.kind')
      .addGroupBy('work.status')
      .getRawMany<TallyRow>();
    const tallies = new Map<string, WorkTally>();
    for (const row of rows) {
      const tally = tallies.get(row.kind) ?? { kind: row.kind, pending: 0, failed: 0 };
      if (row.status === 'pending') tally.pending += Number(row.count);
      else if (row.status === 'failed') tally.failed += Number(row.count);
      tallies.set(row.kind, tally);
    }
    return [...tallies.values()];
  }
}
