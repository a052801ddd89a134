import { Column, type ColumnOptions } from 'typeorm';
import { AttachmentConfigurationError } from '../core/index.js';
import { derivativeDefinition } from '../derivatives/index.js';
import type { AttachmentListOptions, AttachmentOptions } from './attachment-options.js';
import { registerAttachment } from './attachment-registry.js';
import { jsonColumnType } from './json-column-type.js';

function declare(name: string, options: AttachmentOptions, multiple: boolean): PropertyDecorator {
  return (target, propertyKey) => {
    if (typeof propertyKey !== 'string') {
      throw new TypeError(`${name} must decorate a string-named property`);
    }
    checkDerivatives(`${target.constructor.name}.${propertyKey}`, options);
    const column: ColumnOptions = { name: options.columnName, nullable: true };
    if (options.columnType) column.type = options.columnType;
    else {
      // Read by TypeORM as it builds each DataSource's metadata: the type of that database.
      const declaredOn = `${name} on ${target.constructor.name}.${propertyKey}`;
      Object.defineProperty(column, 'type', {
        enumerable: true,
        get: () => jsonColumnType(declaredOn),
      });
    }
    Column(column)(target, propertyKey);
    registerAttachment(target.constructor, { property: propertyKey, options, multiple });
  };
}

/** A derivative made inside promotion cannot also wait for its first request. */
function checkDerivatives(property: string, options: AttachmentOptions): void {
  for (const [derivative, entry] of Object.entries(options.derivatives ?? {})) {
    const definition = derivativeDefinition(entry);
    if (definition.duringPromotion && definition.onDemand) {
      throw new AttachmentConfigurationError(
        `${property}: derivative "${derivative}" cannot be both \`duringPromotion\` and \`onDemand\``,
      );
    }
  }
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
 * removed and reordered by saving a new list; each new file is promoted (and preprocessed) on
 * its own and written back into the list in place, its derivatives merged into it as their jobs
 * finish, and files left out of the list are deleted in a job with their derivatives.
 */
export function Attachments<E extends object = object>(
  options: AttachmentListOptions<E> = {},
): PropertyDecorator {
  return declare('@Attachments()', options, true);
}
