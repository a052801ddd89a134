export * from './attachment.error.js';
export * from './storage.errors.js';
export * from './token.errors.js';
export * from './validation.errors.js';
export * from './upload.errors.js';
