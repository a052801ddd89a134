export { AttachmentEvents } from './attachment-events.js';
