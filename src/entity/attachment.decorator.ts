import { Column } from 'typeorm';
import type { AttachmentOptions } from './attachment-options.interface.js';
import { registerAttachment } from './attachment-registry.js';

/**
 * Declares a single-file attachment: a nullable JSON column holding an UploadedFile, whose
 * changes the lifecycle subscriber turns into promotion and deletion jobs.
 */
export function Attachment(options: AttachmentOptions = {}): PropertyDecorator {
  return (target, propertyKey) => {
    if (typeof propertyKey !== 'string') {
      throw new TypeError('@Attachment() must decorate a string-named property');
    }
    Column({ type: options.columnType ?? 'jsonb', name: options.columnName, nullable: true })(
      target,
      propertyKey,
    );
    registerAttachment(target.constructor, { property: propertyKey, options });
  };
}
