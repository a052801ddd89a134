import { Injectable, type OnModuleInit } from '@nestjs/common';
import { AttachmentsConfig, checkDimensionOptions } from '../config/index.js';
import { checkPlaceholderPackages } from '../derivatives/index.js';
import { attachmentsOf, type AttachmentDefinition } from '../persistence/index.js';

/**
 * Checks the options of every attachment of the DataSource's entities once, at startup, where a
 * mistake would otherwise show only in a job: the dimension rules, and that the packages a
 * placeholder needs are installed (they load lazily, in the worker).
 */
@Injectable()
export class AttachmentDeclarationChecks implements OnModuleInit {
  constructor(private readonly config: AttachmentsConfig) {}

  async onModuleInit(): Promise<void> {
    for (const { where, options } of this.declaredAttachments()) {
      checkDimensionOptions(options, where);
      if (options.placeholder !== undefined) {
        await checkPlaceholderPackages(options.placeholder, where);
      }
    }
  }

  /** Every attachment of the DataSource's entities, named as its messages name it. */
  private declaredAttachments(): { where: string; options: AttachmentDefinition['options'] }[] {
    const dataSource = this.config.dataSource;
    if (!dataSource?.isInitialized) return [];
    return dataSource.entityMetadatas.flatMap((metadata) =>
      attachmentsOf(metadata.target).map(({ property, options, multiple }) => ({
        where: `${multiple ? '@Attachments()' : '@Attachment()'} ${metadata.name}.${property}`,
        options,
      })),
    );
  }
}
