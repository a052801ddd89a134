import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { AttachmentsConfig } from '../config/attachments-config.js';
import {
  ATTACHMENTS_QUEUE,
  JOB_DELETE,
  JOB_DERIVE,
  JOB_NOTIFY,
  JOB_PROMOTE,
  JOB_SWEEP,
} from '../config/constants.js';
import { DeleteJob } from './handlers/delete.handler.js';
import { DeriveJob } from './handlers/derive.handler.js';
import { NotifyJob } from './handlers/notify.handler.js';
import { PromoteJob } from './handlers/promote.handler.js';
import { QueueConnection } from '../outbox/queue-connection.js';
import { SweepJob } from './handlers/sweep.handler.js';
import { WorkFailures } from './work-failures.js';
import type {
  DeletePayload,
  DerivePayload,
  NotifyPayload,
  PromotePayload,
  WorkJobData,
} from '../core/work-payload.js';

/**
 * The BullMQ worker of the attachments queue, built in worker processes only, with the module's
 * worker options from the start (BullMQ reads its lock settings when a worker is constructed),
 * and started without waiting for Redis: the app boots while Redis is down, and the worker
 * starts consuming once it is up. Web-only processes open no worker connection at all.
 */
@Injectable()
export class AttachmentsProcessor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Attachments');
  private worker?: Worker;

  constructor(
    private readonly config: AttachmentsConfig,
    private readonly connection: QueueConnection,
    private readonly failures: WorkFailures,
    private readonly promoteJob: PromoteJob,
    private readonly deleteJob: DeleteJob,
    private readonly deriveJob: DeriveJob,
    private readonly notifyJob: NotifyJob,
    private readonly sweepJob: SweepJob,
  ) {}

  onApplicationBootstrap(): void {
    const options = this.config.worker;
    if (!options) return;
    this.worker = new Worker(ATTACHMENTS_QUEUE, (job: Job) => this.process(job), {
      connection: this.config.options.connection,
      prefix: this.config.options.queuePrefix,
      autorun: false,
      concurrency: options.concurrency,
      lockDuration: options.lockDuration,
      stalledInterval: options.stalledInterval,
      maxStalledCount: options.maxStalledCount,
    });
    this.connection.watch(this.worker);
    this.worker.run().catch((error) => this.logger.error(`Worker stopped: ${String(error)}`));
  }

  /** Lets running jobs finish while the database and the queue are still there. */
  async onModuleDestroy(): Promise<void> {
    await this.worker?.close();
  }

  async process(job: Job<WorkJobData | Record<string, never>>): Promise<unknown> {
    try {
      switch (job.name) {
        case JOB_PROMOTE:
          return await this.promoteJob.run(job.data as PromotePayload & { workId: string });
        case JOB_DERIVE:
          return await this.deriveJob.run(job.data as DerivePayload & { workId: string });
        case JOB_DELETE:
          return await this.deleteJob.run(job.data as DeletePayload & { workId: string });
        case JOB_NOTIFY:
          return await this.notifyJob.run(job.data as NotifyPayload & { workId: string });
        case JOB_SWEEP:
          return await this.sweepJob.run();
        default:
          throw new UnrecoverableError(`Unknown attachments job "${job.name}"`);
      }
    } catch (error) {
      await this.recordFailure(job, error);
      throw error;
    }
  }

  /**
   * On the last attempt, the failure is written to the outbox row, where the app can read it.
   * If that write fails too (the database is down), the relay records it later from BullMQ.
   */
  private async recordFailure(job: Job, error: unknown): Promise<void> {
    const attempts = job.attemptsMade + 1;
    const final = error instanceof UnrecoverableError || attempts >= (job.opts.attempts ?? 1);
    const context = JSON.stringify({ job: job.name, id: job.id, attempts, data: job.data });
    if (!final) {
      this.logger.warn(`Attachment job failed, will retry: ${String(error)} ${context}`);
      return;
    }
    this.logger.error(`Attachment job failed for good: ${String(error)} ${context}`);
    const workId = (job.data as Partial<WorkJobData>).workId;
    if (!workId) return;
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    await this.failures
      .record(workId, { attempts, error: text, job: job.name })
      .catch((recordError: unknown) =>
        this.logger.error(
          `Could not record the failure of ${workId} (the relay will): ${String(recordError)}`,
        ),
      );
  }
}
