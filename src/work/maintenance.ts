import { InjectQueue } from '@nestjs/bullmq';
import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { Queue } from 'bullmq';
import { AttachmentsConfig, ATTACHMENTS_QUEUE } from '../config/index.js';
import type { SweepJobData } from '../core/index.js';
import { QueueConnection } from '../outbox/index.js';
import { WorkRelay, type RelayResult } from './work-relay.js';

const SWEEP_SCHEDULER = 'attachments-cache-sweep';

/**
 * Runs in worker processes: the relay on a timer in this process (so it works even after Redis
 * lost its data), a full relay pass at start and whenever Redis comes back, and the cache
 * sweep's schedule, set as soon as Redis is reachable. Nothing here delays the app's start.
 */
@Injectable()
export class MaintenanceService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Attachments');
  private timer?: NodeJS.Timeout;
  private relaying = false;
  /** The next pass checks every pending row: at start, and after an outage. */
  private checkAll = true;

  constructor(
    private readonly config: AttachmentsConfig,
    private readonly relayer: WorkRelay,
    private readonly connection: QueueConnection,
    @InjectQueue(ATTACHMENTS_QUEUE) private readonly queue: Queue,
  ) {}

  onApplicationBootstrap(): void {
    // forRootAsync registers this provider before knowing whether the process runs jobs.
    if (!this.config.worker) return;
    if (this.config.relayInterval > 0) {
      this.timer = setInterval(() => void this.relay(), this.config.relayInterval);
      this.timer.unref();
      this.connection.onRecovery(() => {
        this.checkAll = true;
        void this.relay();
      });
      this.queue.waitUntilReady().then(
        () => void this.relay(),
        () => undefined,
      );
    }
    if (this.config.sweepInterval > 0) {
      this.queue
        .waitUntilReady()
        .then(() =>
          this.queue.upsertJobScheduler(
            SWEEP_SCHEDULER,
            { every: this.config.sweepInterval },
            { name: 'sweep', data: { kind: 'sweep' } satisfies SweepJobData },
          ),
        )
        .catch((error) => this.logger.warn(`Could not schedule the cache sweep: ${String(error)}`));
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** One relay pass; overlapping passes are skipped. */
  async relay(): Promise<RelayResult | null> {
    if (this.relaying || !this.connection.ready) return null;
    this.relaying = true;
    const all = this.checkAll;
    try {
      const result = await this.relayer.pass({ all });
      this.checkAll = false;
      return result;
    } catch (error) {
      this.logger.warn(`Relay pass failed: ${String(error)}`);
      this.checkAll ||= all;
      return null;
    } finally {
      this.relaying = false;
    }
  }
}
