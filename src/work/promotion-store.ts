import { Inject, Injectable, Logger } from '@nestjs/common';
import { AttachmentsConfig } from '../config/index.js';
import { AttachmentError, type PromoteJobData, type UploadedFile } from '../core/index.js';
import {
  DerivativeMaker,
  derivativeDefinition,
  derivativeStem,
  makePlaceholder,
  takesPlaceholder,
} from '../derivatives/index.js';
import { attachmentOptionsOf, type AttachmentDefinition } from '../persistence/index.js';
import { Tracing } from '../telemetry/index.js';
import { stemOf } from './promotion-target.js';

/**
 * Puts a cached file in its permanent place: copied as it is (a link, a clone or a server-side
 * copy where the storages allow it) or processed first when the attachment preprocesses it,
 * then makes its placeholder and the derivatives marked to run during promotion. Holds no
 * database connection.
 */
@Injectable()
export class PromotionStore {
  private readonly logger = new Logger('Attachments');

  /** Injected as a property, so that the declarations never name OpenTelemetry's types. */
  @Inject(Tracing) private readonly tracing!: Tracing;

  constructor(
    private readonly config: AttachmentsConfig,
    private readonly maker: DerivativeMaker,
  ) {}

  store(data: PromoteJobData): Promise<UploadedFile> {
    const attributes = {
      'attachments.storage': data.target.storage,
      'attachments.source_storage': data.file.storage,
      'attachments.bytes': data.file.metadata.size,
    };
    return this.tracing.inSpan('attachments.copy', attributes, () => this.storeNow(data));
  }

  private async storeNow(data: PromoteJobData): Promise<UploadedFile> {
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
    if (options.placeholder) await this.addPlaceholder(stored, options);
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
   * Adds a placeholder to an image's metadata, made from the stored bytes. An image it cannot
   * be made of (not decodable, over the pixel bound) is promoted without one: a placeholder only
   * stands in for the image, which is served either way. A storage that fails to give the bytes
   * fails the promotion, which is tried again, as a failing copy would.
   */
  private async addPlaceholder(
    stored: UploadedFile,
    options: AttachmentDefinition['options'],
  ): Promise<void> {
    const { placeholder: type } = options;
    if (!type || !takesPlaceholder(stored.metadata)) return;
    try {
      const input = await this.config.storage(stored.storage).open(stored.id);
      const placeholder = await makePlaceholder(input, stored.metadata, {
        type,
        maxInputPixels: options.maxPixels,
      });
      stored.metadata = { ...stored.metadata, placeholder };
    } catch (error) {
      if (!(error instanceof AttachmentError)) throw error;
      this.logger.warn(
        `No ${type} placeholder for ${stored.storage}:${stored.id}: ${error.message}`,
      );
    }
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
