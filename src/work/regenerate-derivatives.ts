import { Injectable } from '@nestjs/common';
import { MoreThan, type ObjectLiteral, type EntityTarget } from 'typeorm';
import { AttachmentsConfig } from '../config/index.js';
import { isUploadedFile, listOf, AttachmentConfigurationError } from '../core/index.js';
import { attachmentOf } from '../persistence/index.js';
import { derivePayload } from './derive-payload.js';
import { WorkOutbox } from '../outbox/index.js';

/** Options of `AttachmentWorkService.regenerateDerivatives()`. */
export interface RegenerateOptions {
  /** Derivatives to make again. Default: every one the attachment declares. */
  names?: readonly string[];
  /** Records read and queued per batch. Default 100. */
  batchSize?: number;
}

/**
 * Queues derivative jobs for existing records, for instance after a size changed: one per stored
 * file and name, each element of a list being a file. Records are read in primary-key order, a
 * batch at a time, so memory stays flat over any table; the jobs run in the background like any
 * other.
 */
@Injectable()
export class RegenerateDerivatives {
  constructor(
    private readonly config: AttachmentsConfig,
    private readonly outbox: WorkOutbox,
  ) {}

  async run(
    entity: EntityTarget<ObjectLiteral>,
    property: string,
    options: RegenerateOptions = {},
  ): Promise<number> {
    const metadata = this.config.dataSource.getMetadata(entity);
    const definition = attachmentOf(metadata.target, property);
    const declared = definition?.options.derivatives ?? {};
    const inList = definition?.multiple ?? false;
    const names = options.names ?? Object.keys(declared);
    const unknown = names.filter((name) => !(name in declared));
    if (unknown.length > 0 || metadata.primaryColumns.length !== 1) {
      throw new AttachmentConfigurationError(
        unknown.length > 0
          ? `${metadata.name}.${property} declares no derivative ${unknown.join(', ')}`
          : `Regenerating needs a single-column primary key on ${metadata.name}`,
      );
    }
    const key = metadata.primaryColumns[0]!.propertyName;
    const repository = this.config.dataSource.getRepository(entity);
    let queued = 0;
    let after: unknown;
    for (;;) {
      const rows = await repository.find({
        where: after === undefined ? {} : { [key]: MoreThan(after) },
        order: { [key]: 'ASC' },
        take: options.batchSize ?? 100,
      });
      if (rows.length === 0) return queued;
      after = rows.at(-1)![key];
      const work = rows.flatMap((row) => {
        const value: unknown = row[property];
        const files = inList ? listOf(value) : isUploadedFile(value) ? [value] : [];
        const recordId = metadata.getEntityIdMap(row) ?? {};
        // Cached files get their derivatives when promotion finishes.
        const stored = files.filter((file) => file.storage !== this.config.cacheStorage);
        return stored.flatMap((file) =>
          names.map((name) =>
            this.outbox.create(
              derivePayload(metadata.name, recordId, property, file, name, inList),
              { entity: metadata.name, recordId },
            ),
          ),
        );
      });
      await this.outbox.record(this.config.dataSource.manager, work);
      await this.outbox.send(work);
      queued += work.length;
    }
  }
}
