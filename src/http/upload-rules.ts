import { Injectable } from '@nestjs/common';
import type { CacheOptions } from '../attaching/index.js';
import { AttachmentsConfig } from '../config/index.js';
import { AttachmentRequiredError, type FileRules, InvalidUploadError } from '../core/index.js';
import { attachmentOf } from '../persistence/index.js';

/**
 * The limits an upload is held to, chosen by the attachment the client says it is for. Every
 * upload path (through the app, to S3 directly, tus) asks here, so the rule is one.
 */
@Injectable()
export class UploadRules {
  constructor(private readonly config: AttachmentsConfig) {}

  /**
   * The named attachment's rules, with the module's `upload.maxSize` for one without its own.
   * Naming none gives `upload.unnamed`, or AttachmentRequiredError when the app has not opted
   * in; naming an attachment that does not exist is an InvalidUploadError.
   */
  for(entity?: string, attachment?: string): FileRules & Pick<CacheOptions, 'attachment'> {
    if (entity === undefined && attachment === undefined) {
      if (!this.config.unnamedUploads) throw new AttachmentRequiredError();
      return this.config.unnamedUploads;
    }
    const dataSource = this.config.dataSource;
    const target = entity && dataSource.hasMetadata(entity) ? dataSource.getMetadata(entity) : null;
    const definition = target && attachment ? attachmentOf(target.target, attachment) : undefined;
    // The definition implies the other two; TypeScript only sees that they are checked.
    if (!definition || !target || attachment === undefined) {
      throw new InvalidUploadError(
        `Unknown attachment "${entity ?? '?'}.${attachment ?? '?'}"; name an entity and one of its @Attachment() properties`,
      );
    }
    const rules = this.config.rulesOf(definition.options);
    return {
      ...rules,
      maxSize: rules.maxSize ?? this.config.uploadMaxSize,
      attachment: { entity: target.name, property: attachment },
    };
  }

  /**
   * The largest file a request that names no attachment in its query may bring, before its
   * form fields say more: the module's cap, or `upload.unnamed.maxSize` if larger.
   */
  largestUnnamed(): number {
    return Math.max(this.config.uploadMaxSize, this.config.unnamedUploads?.maxSize ?? 0);
  }
}

/** A non-empty string query or form value, else undefined. */
export function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
