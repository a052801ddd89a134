/** The BullMQ queue every attachment job goes through. */
export const ATTACHMENTS_QUEUE = 'attachments';

/** Injection token of the controller's resolved route settings, or null when it is left out. */
export const ATTACHMENTS_HTTP = Symbol('ATTACHMENTS_HTTP');

export interface AttachmentsHttpSettings {
  path: string;
  urlPrefix: string;
}
