import { Injectable } from '@nestjs/common';
import type { ObjectLiteral } from 'typeorm';
import { AttachmentsConfig } from '../config/index.js';
import {
  isUploadedFile,
  listOf,
  type FileMetadata,
  type PromotePayload,
  type UploadedFile,
} from '../core/index.js';
import { derivativeDefinition } from '../derivatives/index.js';
import { attachmentOf } from '../persistence/index.js';
import { AttachmentWork } from '../outbox/index.js';
import { FileUrls } from './file-urls.js';
import { Serialization } from './serialization.js';

/**
 * `cached` until promotion finishes, then `stored`; `failed` when promotion gave up (the cached
 * file is still attached and its URL still works).
 */
export type AttachmentState = 'cached' | 'stored' | 'failed';

export interface SerializedDerivative {
  /**
   * False while its job has not finished: `url` is then the original's, or, for an on-demand
   * derivative of a stored file, the signed URL that makes it.
   */
  ready: boolean;
  url: string;
  /** Present, true, for a derivative declared `onDemand`: made on its URL's first request. */
  onDemand?: true;
}

/** An attachment as an API answers it: its state, a URL that works, its metadata, its derivatives. */
export interface SerializedAttachment {
  state: AttachmentState;
  url: string;
  metadata: FileMetadata;
  /** Every derivative the attachment declares, made or not. */
  derivatives: Record<string, SerializedDerivative>;
}

/**
 * Turns an attachment into what an API answers: its state, a working URL and its metadata. An
 * injected service whose methods are async (a failed promotion is read from the database, and a
 * storage may sign its URLs): await them. An answer sent with a forgotten `await` fails with a
 * TypeError saying so, rather than sending `{}`.
 */
@Injectable()
export class AttachmentSerializer {
  constructor(
    private readonly config: AttachmentsConfig,
    private readonly urls: FileUrls,
  ) {}

  serialize<T extends ObjectLiteral>(
    entity: T,
    property: keyof T & string,
  ): Serialization<SerializedAttachment | null> {
    return Serialization.of(this.serializeOne(entity, property));
  }

  /**
   * An `@Attachments()` list as an API answers it: each file as `serialize()` answers a single
   * one, with its own derivatives, in the list's order (empty for a null list).
   */
  serializeList<T extends ObjectLiteral>(
    entity: T,
    property: keyof T & string,
  ): Serialization<SerializedAttachment[]> {
    return Serialization.of(this.serializeMany(entity, property));
  }

  private async serializeOne(
    entity: ObjectLiteral,
    property: string,
  ): Promise<SerializedAttachment | null> {
    const file: unknown = entity[property];
    if (!isUploadedFile(file)) return null;
    return this.serializeFile(entity, property, file, await this.failedAmong(entity, [file]));
  }

  private async serializeMany(
    entity: ObjectLiteral,
    property: string,
  ): Promise<SerializedAttachment[]> {
    const files = listOf(entity[property]);
    const failed = await this.failedAmong(entity, files);
    return Promise.all(files.map((file) => this.serializeFile(entity, property, file, failed)));
  }

  /** One file of the attachment; `failed` holds the ids of cached files whose promotion failed. */
  private async serializeFile(
    entity: ObjectLiteral,
    property: string,
    file: UploadedFile,
    failed: ReadonlySet<string>,
  ): Promise<SerializedAttachment> {
    const url = await this.urls.url(file);
    const derivatives: Record<string, SerializedDerivative> = {};
    const declared = attachmentOf(entity.constructor, property)?.options.derivatives ?? {};
    for (const [name, entry] of Object.entries(declared)) {
      const ready = !!file.derivatives?.[name];
      const options = { derivative: name, record: entity, attachment: property };
      derivatives[name] = { ready, url: await this.urls.url(file, options) };
      if (derivativeDefinition(entry).onDemand) derivatives[name].onDemand = true;
    }
    let state: AttachmentState = 'stored';
    if (file.storage === this.config.cacheStorage) {
      state = failed.has(file.id) ? 'failed' : 'cached';
    }
    return { state, url, metadata: file.metadata, derivatives };
  }

  /** The failed promotions of the record, read only when one of `files` is still cached. */
  private async failedAmong(entity: ObjectLiteral, files: UploadedFile[]): Promise<Set<string>> {
    const cached = files.some((file) => file.storage === this.config.cacheStorage);
    return cached ? this.failedPromotions(entity) : new Set();
  }

  /** Ids of cached files whose promotion failed for good, for one record. */
  private async failedPromotions(entity: ObjectLiteral): Promise<Set<string>> {
    const metadata = this.config.dataSource.getMetadata(entity.constructor);
    const rows = await this.config.dataSource.getRepository(AttachmentWork).find({
      select: { id: true, payload: true },
      where: {
        entity: metadata.name,
        recordId: JSON.stringify(metadata.getEntityIdMap(entity)),
        status: 'failed',
        kind: 'promote',
      },
    });
    return new Set(rows.map((row) => (row.payload as PromotePayload).file.id));
  }
}
