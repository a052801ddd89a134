import type { Provider } from '@nestjs/common';
import { AttachmentWorkService } from './attachment-work.service.js';
import { AttachmentsHealth } from './attachments-health.js';
import { AttachmentDeclarationChecks } from './declaration-checks.js';
import { AttachmentsProcessor } from './attachments.processor.js';
import { EventDelivery } from './event-delivery.js';
import { FollowUps } from './follow-ups.js';
import { DerivativeWriter } from './derivative-write.js';
import { DeleteHandler } from './handlers/delete.handler.js';
import { DeriveHandler } from './handlers/derive.handler.js';
import { NotifyHandler } from './handlers/notify.handler.js';
import { PromoteHandler } from './handlers/promote.handler.js';
import { SweepHandler } from './handlers/sweep.handler.js';
import { MaintenanceService } from './maintenance.js';
import { PromotionStore } from './promotion-store.js';
import { PromotionWriter } from './promotion-write.js';
import { RegenerateDerivatives } from './regenerate-derivatives.js';
import { WorkFailures } from './work-failures.js';
import { WorkMetrics } from './work-metrics.js';
import { WorkRelay } from './work-relay.js';

/** What every process needs of background work: to see it, retry it and queue regeneration. */
export const WORK_PROVIDERS: Provider[] = [
  AttachmentWorkService,
  AttachmentsHealth,
  WorkMetrics,
  AttachmentDeclarationChecks,
  RegenerateDerivatives,
  WorkRelay,
  WorkFailures,
  EventDelivery,
  FollowUps,
  NotifyHandler,
  PromoteHandler,
  PromotionStore,
  PromotionWriter,
  DerivativeWriter,
  DeriveHandler,
  DeleteHandler,
  SweepHandler,
];

/** Providers that run jobs; they stay idle when the options say `worker: false`. */
export const WORKER_PROVIDERS: Provider[] = [AttachmentsProcessor, MaintenanceService];
