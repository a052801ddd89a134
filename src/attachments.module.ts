import { BullModule } from '@nestjs/bullmq';
import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { AttachmentsConfig } from './config/attachments-config.js';
import {
  ATTACHMENTS_MODULE_OPTIONS,
  ConfigurableAttachmentsModule,
  type ATTACHMENTS_ASYNC_OPTIONS_TYPE,
  type ATTACHMENTS_OPTIONS_TYPE,
  type AttachmentsModuleExtras,
} from './config/attachments.module-definition.js';
import { AttachmentsService } from './attaching/attachments.service.js';
import {
  ATTACHMENTS_HTTP,
  ATTACHMENTS_QUEUE,
  type AttachmentsHttpSettings,
} from './config/constants.js';
import { AttachmentSerializer } from './attaching/attachment-serializer.js';
import { createAttachmentsController } from './http/attachments.controller.js';
import { DirectUploadService } from './http/app-uploads.service.js';
import { FileUrls } from './attaching/file-urls.js';
import { UploadRules } from './http/upload-rules.js';
import { StorageUploadService } from './http/direct-uploads.service.js';
import { createStorageUploadsController } from './http/direct-uploads.controller.js';
import { AttachmentLifecycleSubscriber } from './lifecycle/attachment-lifecycle.subscriber.js';
import { AttachmentWorkBuilder } from './lifecycle/attachment-work-builder.js';
import { FreshAttachments } from './lifecycle/fresh-attachments.js';
import { TransactionWork } from './lifecycle/transaction-work.js';
import type { AttachmentsControllerOptions } from './config/attachments-module-options.js';
import { AttachmentWorkService } from './work/attachment-work.service.js';
import { AttachmentsProcessor } from './work/attachments.processor.js';
import { DeleteJob } from './work/handlers/delete.handler.js';
import { DeriveJob } from './work/handlers/derive.handler.js';
import { RegenerateDerivatives } from './work/regenerate-derivatives.js';
import { AttachmentEvents } from './events/attachment-events.js';
import { DerivativeMaker } from './derivatives/derivative-maker.js';
import { MaintenanceService } from './work/maintenance.js';
import { NotifyJob } from './work/handlers/notify.handler.js';
import { PromoteJob } from './work/handlers/promote.handler.js';
import { PromotionWriter } from './work/promotion-write.js';
import { QueueConnection } from './outbox/queue-connection.js';
import { SweepJob } from './work/handlers/sweep.handler.js';
import { WorkFailures } from './work/work-failures.js';
import { WorkOutbox } from './outbox/work-outbox.service.js';
import { WorkRelay } from './work/work-relay.js';

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
