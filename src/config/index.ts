export {
  AttachmentsConfig,
  DEFAULT_DRAIN,
  type DrainBounds,
  type OnDemandSettings,
  type TusSettings,
} from './attachments-config.js';
export { checkDimensionOptions } from './dimension-options.js';
export { ResumableUploadSweeps } from './resumable-upload-sweeps.js';
export type {
  AttachmentsControllerOptions,
  AttachmentsDerivativeOptions,
  AttachmentsJobHooks,
  AttachmentsModuleOptions,
  AttachmentsOnDemandOptions,
  AttachmentsRequest,
  AttachmentsTusOptions,
  AttachmentsUploadOptions,
  AttachmentsWorkerOptions,
  JobStep,
  JobStepData,
  UnnamedUploadRules,
} from './attachments-module-options.js';
export {
  ATTACHMENTS_MODULE_OPTIONS,
  ConfigurableAttachmentsModule,
} from './attachments.module-definition.js';
export type {
  ATTACHMENTS_ASYNC_OPTIONS_TYPE,
  ATTACHMENTS_OPTIONS_TYPE,
  AttachmentsModuleExtras,
} from './attachments.module-definition.js';
export { ATTACHMENTS_HTTP, ATTACHMENTS_QUEUE } from './constants.js';
export { RedisConnections } from './redis-connections.js';
export type { AttachmentsRedisConnection, RedisClusterConnection } from './redis-connection.js';
export type { AttachmentsHttpSettings } from './constants.js';
