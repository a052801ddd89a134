import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { ATTACHMENTS_QUEUE, AttachmentsConfig, RedisConnections } from '../config/index.js';
import type { SweepJobData, WorkJobData } from '../core/index.js';
import { QueueConnection } from '../outbox/index.js';
import { AttachmentMetrics, Tracing } from '../telemetry/index.js';
import { DeleteHandler } from './handlers/delete.handler.js';
import { DeriveHandler } from './handlers/derive.handler.js';
import { NotifyHandler } from './handlers/notify.handler.js';
import { PromoteHandler } from './handlers/promote.handler.js';
import { SweepHandler } from './handlers/sweep.handler.js';
import { traceJob } from './job-spans.js';
import { WorkFailures } from './work-failures.js';

type JobData = WorkJobData | SweepJobData;

/** BullMQ's worker, with a way out of a close that waits for Redis. */
class JobWorker extends Worker<JobData> {
  /**
   * For a close begun while Redis answered, now waiting for it to take the jobs' ends: that
   * close stops the lock renewals and the stalled-job checks only at its end, and both would
   * keep the process alive meanwhile, the renewals for ever. They are stopped here, and the
   * connections closed without a goodbye.
   */
  async abandonClose(): Promise<void> {
    await this.pause(true);
    await this.lockManager.close();
    await this.getBackend().close(true);
  }
}

/**
 * The BullMQ worker of the attachments queue: it hands each job to the handler of its kind.
 * Built in worker processes only, with the module's worker options from the start (BullMQ
 * reads its lock settings when a worker is constructed), and started without waiting for
 * Redis: the app boots while Redis is down, and the worker starts consuming once it is up.
 * Web-only processes open no worker connection at all.
 */
@Injectable()
export class AttachmentsProcessor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Attachments');
  private worker?: JobWorker;
  /** Both of the worker's connections have reached Redis. */
  private workerReady = false;

  /** Injected as a property, so that the declarations never name OpenTelemetry's types. */
  @Inject(Tracing) private readonly tracing!: Tracing;

  constructor(
    private readonly config: AttachmentsConfig,
    private readonly connection: QueueConnection,
    private readonly connections: RedisConnections,
    private readonly failures: WorkFailures,
    private readonly promote: PromoteHandler,
    private readonly derive: DeriveHandler,
    private readonly remove: DeleteHandler,
    private readonly notify: NotifyHandler,
    private readonly sweep: SweepHandler,
    private readonly metrics: AttachmentMetrics,
  ) {}

  onApplicationBootstrap(): void {
    const options = this.config.worker;
    if (!options) return;
    this.worker = new JobWorker(ATTACHMENTS_QUEUE, (job) => this.process(job), {
      connection: this.connections.forWorker(),
      prefix: this.config.queuePrefix,
      autorun: false,
      concurrency: options.concurrency,
      lockDuration: options.lockDuration,
      stalledInterval: options.stalledInterval,
      maxStalledCount: options.maxStalledCount,
    });
    this.connection.watch(this.worker);
    this.worker.waitUntilReady().then(
      () => (this.workerReady = true),
      () => undefined, // closed before Redis was ever reached
    );
    this.worker.run().catch((error) => this.logger.error(`Worker stopped: ${String(error)}`));
  }

  /**
   * Lets running jobs finish while the database and the queue are still there. While Redis is
   * known to be down, that close would wait for Redis to take the jobs' ends and the worker's
   * goodbye, and the process could never exit: the worker is then closed at once. So it is when
   * Redis goes down during that close (the jobs' ends and the worker's goodbye then wait in its
   * clients for Redis): its connections are closed at once as soon as the outage is noticed.
   * Its running jobs, which cannot be recorded as done anyway, are taken over by another worker
   * once their locks expire.
   */
  async onModuleDestroy(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    if (!this.connection.ready || !this.workerReady) return worker.close(true);
    const closed = worker.close().then(() => true);
    const outage = this.connection.whenUnreachable().then(() => false);
    if (!(await Promise.race([closed, outage]))) await worker.abandonClose();
  }

  private async process(job: Job<JobData>): Promise<unknown> {
    const started = this.metrics.startJob();
    try {
      const result = await traceJob(this.tracing, job.data, () => this.handle(job.data));
      this.metrics.jobEnded(job.data.kind, 'done', started);
      return result;
    } catch (error) {
      const final = isFinal(job, error);
      this.metrics.jobEnded(job.data.kind, final ? 'failed' : 'retry', started);
      await this.recordFailure(job, error, final);
      throw error;
    }
  }

  private handle(data: JobData): Promise<unknown> {
    switch (data.kind) {
      case 'promote':
        return this.promote.handle(data);
      case 'derive':
        return this.derive.handle(data);
      case 'delete':
        return this.remove.handle(data);
      case 'notify':
        return this.notify.handle(data);
      case 'sweep':
        return this.sweep.run();
      default:
        throw new UnrecoverableError(`Unknown attachments job: ${JSON.stringify(data)}`);
    }
  }

  /**
   * On the last attempt, the failure is written to the outbox row, where the app can read it.
   * If that write fails too (the database is down), the relay records it later from BullMQ.
   */
  private async recordFailure(job: Job<JobData>, error: unknown, final: boolean): Promise<void> {
    const attempts = job.attemptsMade + 1;
    const context = JSON.stringify({ job: job.name, id: job.id, attempts, data: job.data });
    if (!final) {
      this.logger.warn(`Attachment job failed, will retry: ${String(error)} ${context}`);
      return;
    }
    this.logger.error(`Attachment job failed for good: ${String(error)} ${context}`);
    if (job.data.kind === 'sweep') return;
    const workId = job.data.workId;
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

/** Whether this failure is the job's last: BullMQ will not run it again. */
function isFinal(job: Job<JobData>, error: unknown): boolean {
  return error instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}
