export { FreshAttachments } from './fresh-attachments.js';
export { LIFECYCLE_PROVIDERS } from './providers.js';
