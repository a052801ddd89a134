export { AttachmentWorkService } from './attachment-work.service.js';
export { AttachmentsHealth } from './attachments-health.js';
export type {
  AttachmentsHealthReport,
  HealthCheckOptions,
  ProbeResult,
} from './attachments-health.js';
export { DerivativeWriter, originalIn } from './derivative-write.js';
export { FollowUps } from './follow-ups.js';
export type { SweepResult } from './handlers/sweep.handler.js';
export { WORK_PROVIDERS, WORKER_PROVIDERS } from './providers.js';
export type { RegenerateOptions } from './regenerate-derivatives.js';
