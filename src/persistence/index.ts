export {
  AttachmentClaim,
  claimKey,
  claimOf,
  insertClaim,
  isClaimed,
} from './attachment-claim.entity.js';
export type {
  AttachmentCallbacks,
  AttachmentDefinition,
  AttachmentListOptions,
  AttachmentOptions,
} from './attachment-options.js';
export { attachmentOf, attachmentOptionsOf, attachmentsOf } from './attachment-registry.js';
export { Attachment, Attachments } from './attachment.decorator.js';
export { epochMillis } from './epoch-millis.js';
export { mergeDerivative } from './sql/derivative-columns.js';
export { replaceListElement } from './sql/list-columns.js';
export {
  compareAndSetAttachment,
  readAttachmentColumns,
  readColumnsNow,
  readColumnsWhileRow,
} from './sql/record-columns.js';
export {
  deleteByIds,
  deleteByIdsAndInsert,
  findRow,
  insertRows,
  rowExists,
  type RowMatch,
} from './sql/rows.js';
export { dialectFor, dialectOf } from './sql/dialect-of.js';
export { inTransaction } from './sql/transactions.js';
