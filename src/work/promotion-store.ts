import { Injectable } from '@nestjs/common';
import { AttachmentsConfig } from '../config/index.js';
import type { PromoteJobData, UploadedFile } from '../core/index.js';
import { DerivativeMaker, derivativeDefinition, derivativeStem } from '../derivatives/index.js';
import { attachmentOptionsOf } from '../persistence/index.js';
import { stemOf } from './promotion-target.js';

/**
 * Puts a cached file in its permanent place: copied as it is (a link, a clone or a server-side
 * copy where the storages allow it) or processed first when the attachment preprocesses it,
 * then makes the derivatives marked to run during promotion. Holds no database connection.
 */
@Injectable()
export class PromotionStore {
  constructor(
    private readonly config: AttachmentsConfig,
    private readonly maker: DerivativeMaker,
  ) {}

  async store(data: PromoteJobData): Promise<UploadedFile> {
    const options = attachmentOptionsOf(this.config.dataSource, data.entity, data.attachment);
    let stored: UploadedFile;
    if (options.preprocess) {
      const target = { storage: data.target.storage, stem: stemOf(data.target.id) };
      const made = await this.maker.make(options.preprocess, data.file, target);
      stored = { ...made, metadata: { ...made.metadata, filename: data.file.metadata.filename } };
    } else {
      await this.config
        .storage(data.target.storage)
        .copy(this.config.storage(data.file.storage), data.file.id, data.target.id);
      stored = { ...data.target, metadata: data.file.metadata };
    }
    if (data.inList) stored.source = data.file.id;
    for (const [name, entry] of Object.entries(options.derivatives ?? {})) {
      const definition = derivativeDefinition(entry);
      if (!definition.duringPromotion) continue;
      const target = { storage: stored.storage, stem: derivativeStem(stored, name) };
      const derivative = await this.maker.make(definition.processor, stored, target);
      stored.derivatives = { ...stored.derivatives, [name]: derivative };
    }
    return stored;
  }

  /**
   * Removes what a promotion may have stored (the original under its fixed stem, whatever
   * extension preprocessing gave it, and the folder of its derivatives), once the record is
   * known to hold another file.
   */
  async remove(data: PromoteJobData): Promise<void> {
    const storage = this.config.storage(data.target.storage);
    const leftovers = new Set([data.target.id]);
    for await (const file of storage.list(stemOf(data.target.id))) leftovers.add(file.id);
    await storage.deleteMany([...leftovers]);
  }
}
