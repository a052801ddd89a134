import { BullModule } from '@nestjs/bullmq';
import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import {
  AttachmentsConfig,
  ATTACHMENTS_MODULE_OPTIONS,
  ConfigurableAttachmentsModule,
  type ATTACHMENTS_ASYNC_OPTIONS_TYPE,
  type ATTACHMENTS_OPTIONS_TYPE,
  type AttachmentsModuleExtras,
  ATTACHMENTS_HTTP,
  ATTACHMENTS_QUEUE,
  type AttachmentsHttpSettings,
  RedisConnections,
  ResumableUploadSweeps,
} from './config/index.js';
import {
  AttachmentsService,
  AttachmentSerializer,
  CachedFileChecks,
  FileUrls,
  OnDemandDerivatives,
  OnDemandOutput,
} from './attaching/index.js';
import { DerivativeMaker } from './derivatives/index.js';
import { AttachmentEvents } from './events/index.js';
import { HTTP_PROVIDERS, controllersFor } from './http/index.js';
import { LIFECYCLE_PROVIDERS } from './lifecycle/index.js';
import { QueueConnection, WorkOutbox } from './outbox/index.js';
import { AttachmentMetrics, OPEN_TELEMETRY_PROVIDER, Tracing } from './telemetry/index.js';
import {
  AttachmentsHealth,
  AttachmentWorkService,
  WORK_PROVIDERS,
  WORKER_PROVIDERS,
} from './work/index.js';

/** Every layer's providers, bottom first. */
const providers: Provider[] = [
  OPEN_TELEMETRY_PROVIDER,
  AttachmentMetrics,
  Tracing,
  ResumableUploadSweeps,
  AttachmentEvents,
  DerivativeMaker,
  QueueConnection,
  WorkOutbox,
  ...LIFECYCLE_PROVIDERS,
  ...WORK_PROVIDERS,
  AttachmentsService,
  CachedFileChecks,
  FileUrls,
  AttachmentSerializer,
  OnDemandOutput,
  OnDemandDerivatives,
  ...HTTP_PROVIDERS,
];

/**
 * A module that resolves and checks the options once and exports them, imported both by the
 * attachments module and by the BullMQ queue registration, which needs the Redis connection
 * (and owns the connections it makes: one instance of it serves both).
 */
function optionsHost(base: DynamicModule): DynamicModule {
  return {
    module: class AttachmentsOptionsHostModule {},
    imports: base.imports ?? [],
    providers: [...(base.providers ?? []), AttachmentsConfig, RedisConnections],
    exports: [AttachmentsConfig, RedisConnections, ATTACHMENTS_MODULE_OPTIONS],
  };
}

function queueRegistration(host: DynamicModule): DynamicModule {
  return BullModule.registerQueueAsync({
    name: ATTACHMENTS_QUEUE,
    imports: [host],
    inject: [AttachmentsConfig, RedisConnections],
    useFactory: (config: AttachmentsConfig, connections: RedisConnections) => ({
      connection: connections.forQueue(),
      prefix: config.queuePrefix,
    }),
  });
}

function httpSettings(extras: AttachmentsModuleExtras): AttachmentsHttpSettings | null {
  if (extras.controller === false) return null;
  const path = (extras.controller?.path ?? 'attachments').replace(/^\/+|\/+$/g, '');
  const urlPrefix = (extras.controller?.urlPrefix ?? `/${path}`).replace(/\/+$/, '');
  return { path, urlPrefix };
}

/**
 * The attachments module: `forRoot(options)` or `forRootAsync({ useFactory, inject, imports })`,
 * with `controller` and `isGlobal` given directly to either.
 */
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
        ...(withWorker ? WORKER_PROVIDERS : []),
        { provide: ATTACHMENTS_HTTP, useValue: http },
      ],
      exports: [
        host,
        AttachmentsService,
        AttachmentWorkService,
        AttachmentsHealth,
        AttachmentSerializer,
        AttachmentEvents,
      ],
    };
  }
}
