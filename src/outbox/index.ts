export { AttachmentWork } from './attachment-work.entity.js';
export type { WorkStatus } from './attachment-work.entity.js';
export { jobIdFor } from './job-id.js';
export { listPromotedEvent, listSettled } from './list-settlement.js';
export { QueueConnection } from './queue-connection.js';
export { WorkOutbox } from './work-outbox.service.js';
