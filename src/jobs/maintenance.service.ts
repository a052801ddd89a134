import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { AttachmentsConfig } from '../attachments-config.js';
import { JOB_SWEEP } from '../constants.js';
import { WorkOutbox } from './work-outbox.service.js';

const SWEEP_SCHEDULER = 'attachments-cache-sweep';

/**
 * Runs in worker processes: relays outbox rows that never reached Redis (on a timer in this
 * process, so it works even after Redis lost its data) and schedules the cache sweep.
 */
@Injectable()
export class MaintenanceService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Attachments');
  private timer?: NodeJS.Timeout;
  private relaying = false;

  constructor(
    private readonly config: AttachmentsConfig,
    private readonly outbox: WorkOutbox,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // forRootAsync registers this provider before knowing whether the process runs jobs.
    if (!this.config.worker) return;
    if (this.config.relayInterval > 0) {
      this.timer = setInterval(() => void this.relay(), this.config.relayInterval);
      this.timer.unref();
      void this.relay();
    }
    if (this.config.sweepInterval > 0) {
      await this.outbox.queue
        .upsertJobScheduler(
          SWEEP_SCHEDULER,
          { every: this.config.sweepInterval },
          { name: JOB_SWEEP },
        )
        .catch((error) => this.logger.warn(`Could not schedule the cache sweep: ${String(error)}`));
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** One relay pass; overlapping passes are skipped. */
  async relay(): Promise<number> {
    if (this.relaying) return 0;
    this.relaying = true;
    try {
      return await this.outbox.relayPending();
    } catch (error) {
      this.logger.warn(`Relay pass failed: ${String(error)}`);
      return 0;
    } finally {
      this.relaying = false;
    }
  }
}
