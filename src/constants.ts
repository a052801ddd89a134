/** The BullMQ queue every attachment job goes through. */
export const ATTACHMENTS_QUEUE = 'attachments';

export const JOB_PROMOTE = 'promote';
export const JOB_DELETE = 'delete';
export const JOB_SWEEP = 'sweep';
