/** The BullMQ queue every attachment job goes through. */
export const ATTACHMENTS_QUEUE = 'attachments';

export const JOB_PROMOTE = 'promote';
export const JOB_DELETE = 'delete';
export const JOB_SWEEP = 'sweep';
export const JOB_DERIVE = 'derive';
export const JOB_NOTIFY = 'notify';

/** Injection token of the controller's resolved route settings, or null when it is left out. */
export const ATTACHMENTS_HTTP = Symbol('ATTACHMENTS_HTTP');

export interface AttachmentsHttpSettings {
  path: string;
  urlPrefix: string;
}
