import type { DataSource } from 'typeorm';
import { AttachmentConfigurationError } from '../core/index.js';
import { AttachmentWork } from '../outbox/index.js';
import { AttachmentClaim, dialectOf } from '../persistence/index.js';

/**
 * What the DataSource must be before the subscriber can join it: a database this library
 * speaks (refused rather than trusted untested), initialized, and holding the library's tables.
 */
export function checkDataSource(dataSource: DataSource): void {
  dialectOf(dataSource);
  if (!dataSource.isInitialized) {
    throw new AttachmentConfigurationError(
      'AttachmentsModule: the DataSource must be initialized before the module starts',
    );
  }
  for (const entity of [AttachmentWork, AttachmentClaim]) {
    if (!dataSource.hasMetadata(entity)) {
      throw new AttachmentConfigurationError(
        `AttachmentsModule: add ${entity.name} to the DataSource's entities ` +
          '(spread `attachmentEntities` into the `entities` option)',
      );
    }
  }
}
