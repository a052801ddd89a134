import { Injectable } from '@nestjs/common';
import { AttachmentsConfig } from '../config/index.js';
import { type FileRules, InvalidUploadError } from '../core/index.js';
import { attachmentOf } from '../persistence/index.js';

/** The limits an upload is held to, chosen by the attachment the client says it is for. */
@Injectable()
export class UploadRules {
  constructor(private readonly config: AttachmentsConfig) {}

  /** The named attachment's limits, or the module's upload defaults when none is named. */
  for(entity?: string, attachment?: string): FileRules {
    const defaults = {
      maxSize: this.config.uploadMaxSize,
      allowedTypes: this.config.uploadAllowedTypes,
    };
    if (entity === undefined && attachment === undefined) return defaults;
    const dataSource = this.config.dataSource;
    const target = entity && dataSource.hasMetadata(entity) ? dataSource.getMetadata(entity) : null;
    const definition = target && attachment ? attachmentOf(target.target, attachment) : undefined;
    if (!definition) {
      throw new InvalidUploadError(
        `Unknown attachment "${entity ?? '?'}.${attachment ?? '?'}"; name an entity and one of its @Attachment() properties`,
      );
    }
    return {
      maxSize: definition.options.maxSize ?? defaults.maxSize,
      allowedTypes: definition.options.allowedTypes ?? defaults.allowedTypes,
    };
  }
}

/** A non-empty string query or form value, else undefined. */
export function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
