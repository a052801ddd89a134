import { BullModule } from '@nestjs/bullmq';
import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { AttachmentsConfig } from './attachments-config.js';
import {
  ATTACHMENTS_MODULE_OPTIONS,
  ConfigurableAttachmentsModule,
  type ATTACHMENTS_ASYNC_OPTIONS_TYPE,
  type ATTACHMENTS_OPTIONS_TYPE,
  type AttachmentsModuleExtras,
} from './attachments.module-definition.js';
import { AttachmentsService } from './attachments.service.js';
import { ATTACHMENTS_HTTP, ATTACHMENTS_QUEUE, type AttachmentsHttpSettings } from './constants.js';
import { AttachmentSerializer } from './http/attachment-serializer.js';
import { createAttachmentsController } from './http/attachments.controller.js';
import { DirectUploadService } from './http/direct-upload.service.js';
import { FileUrls } from './http/file-urls.js';
import { UploadRules } from './http/upload-rules.js';
import { StorageUploadService } from './http/storage-upload.service.js';
import { createStorageUploadsController } from './http/storage-uploads.controller.js';
import { AttachmentLifecycleSubscriber } from './entity/attachment-lifecycle.subscriber.js';
import { AttachmentWorkBuilder } from './entity/attachment-work-builder.js';
import { FreshAttachments } from './entity/fresh-attachments.js';
import { TransactionWork } from './entity/transaction-work.js';
import type { AttachmentsControllerOptions } from './interfaces/attachments-module-options.interface.js';
import { AttachmentWorkService } from './jobs/attachment-work.service.js';
import { AttachmentsProcessor } from './jobs/attachments.processor.js';
import { DeleteJob } from './jobs/delete.job.js';
import { DeriveJob } from './jobs/derive.job.js';
import { RegenerateDerivatives } from './jobs/regenerate-derivatives.js';
import { AttachmentEvents } from './events/attachment-events.js';
import { DerivativeMaker } from './derivatives/derivative-maker.js';
import { MaintenanceService } from './jobs/maintenance.service.js';
import { NotifyJob } from './jobs/notify.job.js';
import { PromoteJob } from './jobs/promote.job.js';
import { PromotionWriter } from './jobs/promotion-write.js';
import { QueueConnection } from './jobs/queue-connection.js';
import { SweepJob } from './jobs/sweep.job.js';
import { WorkFailures } from './jobs/work-failures.js';
import { WorkOutbox } from './jobs/work-outbox.service.js';
import { WorkRelay } from './jobs/work-relay.js';

const providers: Provider[] = [
  AttachmentsService,
  AttachmentWorkService,
  AttachmentLifecycleSubscriber,
  AttachmentWorkBuilder,
  FreshAttachments,
  TransactionWork,
  QueueConnection,
  WorkOutbox,
  WorkRelay,
  WorkFailures,
  NotifyJob,
  PromoteJob,
  PromotionWriter,
  DeleteJob,
  SweepJob,
  DeriveJob,
  DerivativeMaker,
  RegenerateDerivatives,
  AttachmentEvents,
  FileUrls,
  AttachmentSerializer,
  DirectUploadService,
  UploadRules,
  StorageUploadService,
];

/** Providers of processes that run jobs; they stay idle when the options say `worker: false`. */
const workerProviders: Provider[] = [AttachmentsProcessor, MaintenanceService];

/**
 * A module that resolves and checks the options once and exports them, imported both by the
 * attachments module and by the BullMQ queue registration, which needs the Redis connection.
 */
function optionsHost(base: DynamicModule): DynamicModule {
  return {
    module: class AttachmentsOptionsHostModule {},
    imports: base.imports ?? [],
    providers: [...(base.providers ?? []), AttachmentsConfig],
    exports: [AttachmentsConfig, ATTACHMENTS_MODULE_OPTIONS],
  };
}

function queueRegistration(host: DynamicModule): DynamicModule {
  return BullModule.registerQueueAsync({
    name: ATTACHMENTS_QUEUE,
    imports: [host],
    inject: [AttachmentsConfig],
    useFactory: (config: AttachmentsConfig) => ({
      // Fail fast when Redis is down: the outbox keeps the work and the relay re-sends it.
      connection: { ...config.options.connection, enableOfflineQueue: false },
      prefix: config.options.queuePrefix,
    }),
  });
}

function controllersFor(options: AttachmentsControllerOptions) {
  return [createAttachmentsController(options), createStorageUploadsController(options)];
}

function httpSettings(extras: AttachmentsModuleExtras): AttachmentsHttpSettings | null {
  if (extras.controller === false) return null;
  const path = (extras.controller?.path ?? 'attachments').replace(/^\/+|\/+$/g, '');
  const urlPrefix = (extras.controller?.urlPrefix ?? `/${path}`).replace(/\/+$/, '');
  return { path, urlPrefix };
}

@Module({})
export class AttachmentsModule extends ConfigurableAttachmentsModule {
  static forRoot(options: typeof ATTACHMENTS_OPTIONS_TYPE): DynamicModule {
    return AttachmentsModule.assemble(super.forRoot(options), options, options.worker !== false);
  }

  static forRootAsync(options: typeof ATTACHMENTS_ASYNC_OPTIONS_TYPE): DynamicModule {
    // Whether to run jobs is only known once the options resolve; the processor checks then.
    return AttachmentsModule.assemble(super.forRootAsync(options), options, true);
  }

  private static assemble(
    base: DynamicModule,
    extras: AttachmentsModuleExtras,
    withWorker: boolean,
  ): DynamicModule {
    const host = optionsHost(base);
    const http = httpSettings(extras);
    return {
      module: base.module,
      global: base.global,
      imports: [host, queueRegistration(host)],
      controllers: http ? controllersFor({ ...extras.controller, path: http.path }) : [],
      providers: [
        ...providers,
        ...(withWorker ? workerProviders : []),
        { provide: ATTACHMENTS_HTTP, useValue: http },
      ],
      exports: [
        host,
        AttachmentsService,
        AttachmentWorkService,
        AttachmentSerializer,
        AttachmentEvents,
      ],
    };
  }
}
