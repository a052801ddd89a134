import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { UnrecoverableError, type Job } from 'bullmq';
import { AttachmentsConfig } from '../attachments-config.js';
import { ATTACHMENTS_QUEUE, JOB_DELETE, JOB_DERIVE, JOB_PROMOTE, JOB_SWEEP } from '../constants.js';
import { DeriveJob } from './derive.job.js';
import { AttachmentEvents } from '../events/attachment-events.js';
import { DeleteJob } from './delete.job.js';
import { PromoteJob } from './promote.job.js';
import { SweepJob } from './sweep.job.js';
import { WorkOutbox } from './work-outbox.service.js';
import type { DeletePayload, DerivePayload, PromotePayload, WorkJobData } from './work-payload.js';

/**
 * The BullMQ worker of the attachments queue. Created paused (`autorun: false`) so the module's
 * worker options apply before the first job is taken.
 */
@Processor(ATTACHMENTS_QUEUE, { autorun: false })
export class AttachmentsProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger('Attachments');

  constructor(
    private readonly config: AttachmentsConfig,
    private readonly outbox: WorkOutbox,
    private readonly promoteJob: PromoteJob,
    private readonly deleteJob: DeleteJob,
    private readonly deriveJob: DeriveJob,
    private readonly sweepJob: SweepJob,
    private readonly events: AttachmentEvents,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    const options = this.config.worker;
    if (!options) return;
    Object.assign(this.worker.opts, {
      lockDuration: options.lockDuration,
      stalledInterval: options.stalledInterval,
    });
    this.worker.concurrency = options.concurrency;
    this.worker.run().catch((error) => this.logger.error(`Worker stopped: ${String(error)}`));
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

  /** On the last attempt, the failure is written to the outbox row, where the app can read it. */
  private async recordFailure(job: Job, error: unknown): Promise<void> {
    const attempts = job.attemptsMade + 1;
    const final = error instanceof UnrecoverableError || attempts >= (job.opts.attempts ?? 1);
    const context = JSON.stringify({ job: job.name, id: job.id, attempts, data: job.data });
    if (!final) {
      this.logger.warn(`Attachment job failed, will retry: ${String(error)} ${context}`);
      return;
    }
    this.logger.error(`Attachment job failed for good: ${String(error)} ${context}`);
    const data = job.data as Partial<WorkJobData> & { entity?: string; attachment?: string };
    const workId = data.workId;
    if (workId) {
      await this.outbox
        .markFailed(workId, attempts, error)
        .catch((markError) =>
          this.logger.error(`Could not record the failure of ${workId}: ${String(markError)}`),
        );
      await this.events.emit({
        type: 'failed',
        job: job.name,
        workId,
        entity: data.entity ?? null,
        recordId: (data as { recordId?: Record<string, unknown> }).recordId ?? null,
        attachment: data.attachment ?? null,
        attempts,
        error,
      });
    }
  }
}
