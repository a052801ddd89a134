import { Column } from 'typeorm';
import type { AttachmentListOptions, AttachmentOptions } from './attachment-options.js';
import { registerAttachment } from './attachment-registry.js';

function declare(name: string, options: AttachmentOptions, multiple: boolean): PropertyDecorator {
  return (target, propertyKey) => {
    if (typeof propertyKey !== 'string') {
      throw new TypeError(`${name} must decorate a string-named property`);
    }
    Column({ type: options.columnType ?? 'jsonb', name: options.columnName, nullable: true })(
      target,
      propertyKey,
    );
    registerAttachment(target.constructor, { property: propertyKey, options, multiple });
  };
}

/**
 * Declares a single-file attachment: a nullable JSON column holding an UploadedFile, whose
 * changes the lifecycle subscriber turns into promotion and deletion jobs.
 */
export function Attachment<E extends object = object>(
  options: AttachmentOptions<E> = {},
): PropertyDecorator {
  return declare('@Attachment()', options, false);
}

/**
 * Declares an ordered list of files on one property: a JSON array column. Files can be added,
 * removed and reordered by saving a new list; each new file is promoted on its own and written
 * back into the list in place, and files left out of the list are deleted in a job.
 */
export function Attachments<E extends object = object>(
  options: AttachmentListOptions<E> = {},
): PropertyDecorator {
  return declare('@Attachments()', options, true);
}
