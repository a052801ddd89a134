import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import type { ObjectLiteral } from 'typeorm';
import { AttachmentsConfig } from '../config/index.js';
import {
  newFileId,
  sanitizeFilename,
  signUploadToken,
  type UploadedFile,
  type FileRules,
  AttachmentConfigurationError,
  TooManyFilesError,
  type FileMetadata,
  measuredFactsOf,
  listOf,
} from '../core/index.js';
import { uploadNamedByType } from '../storage/index.js';
import { attachmentOf } from '../persistence/index.js';
import { FreshAttachments } from '../lifecycle/index.js';
import { AttachmentEvents } from '../events/index.js';
import {
  AttachmentMetrics,
  recordIdAttribute,
  Tracing,
  type SpanAttributes,
} from '../telemetry/index.js';
import { FileUrls, type FileUrlOptions } from './file-urls.js';
import { CachedFileChecks } from './cached-file-checks.js';

/** Options of `cache()`: the rules the file must meet, its name, and who uploads it. */
export interface CacheOptions extends FileRules {
  /** Original filename as the client gave it; sanitized before it is kept. */
  filename?: string;
  /** Binds the issued token to this uploader. */
  owner?: string;
  /**
   * The attachment the file is meant for, by entity and property name: it only labels the
   * upload metrics. Its rules are the ones given here, not looked up.
   */
  attachment?: { entity: string; property: string };
}

/** A file streamed into the cache: its token, for a form to send, and the file itself. */
export interface CachedUpload {
  token: string;
  file: UploadedFile;
}

/** Options of `attach()` and `attachMany()`. */
export interface AttachOptions {
  /** The current uploader; must match the owner the token was issued to, if any. */
  owner?: string;
  /** Filename for a stream or Buffer source. */
  filename?: string;
}

/** Attaching files to entities, and the upload tokens that let a client name a cached file. */
@Injectable()
export class AttachmentsService {
  // Injected as properties, so that the public declarations never name OpenTelemetry's types.
  @Inject(Tracing) private readonly tracing!: Tracing;
  @Inject(AttachmentMetrics) private readonly metrics!: AttachmentMetrics;

  constructor(
    private readonly config: AttachmentsConfig,
    private readonly urls: FileUrls,
    private readonly events: AttachmentEvents,
    private readonly fresh: FreshAttachments,
    private readonly checks: CachedFileChecks,
  ) {}

  /**
   * Signs a token naming a file of the cache storage, valid for `tokenTtl`. Pass `sha256` only
   * when this server computed it from the bytes: attaching takes it from the token as is.
   */
  issueToken(
    file: Pick<UploadedFile, 'id'> & { filename?: string | null; sha256?: string },
    owner?: string,
  ) {
    return this.signToken(file, owner);
  }

  /**
   * A token that also carries what `cache()` measured, so attaching needs no second look at the
   * file. Only `cache()` signs one: it alone knows the bytes it measured are the bytes stored
   * (a direct upload's object can be written again while its presigned request lasts).
   */
  private signToken(
    file: Pick<UploadedFile, 'id'> & { filename?: string | null; sha256?: string },
    owner: string | undefined,
    measured?: FileMetadata,
  ) {
    return signUploadToken(
      {
        storage: this.config.cacheStorage,
        id: file.id,
        expiresAt: Date.now() + this.config.tokenTtl,
        ...(file.filename ? { filename: file.filename } : {}),
        ...(file.sha256 ? { sha256: file.sha256 } : {}),
        ...(owner === undefined ? {} : { owner }),
        ...(measured ? { measured: measuredFactsOf(measured) } : {}),
      },
      this.config.secret,
    );
  }

  /**
   * Streams a file into the cache storage, measuring it on the way, and returns its token. A
   * file over `maxSize` or `maxPixels` (default `upload.maxPixels`), or an image that is not
   * whole, is cut off while it streams and never stored; one that breaks another rule (its
   * type, or empty without `allowEmpty`) is deleted before the error is thrown.
   */
  async cache(body: Readable | Buffer, options: CacheOptions = {}): Promise<CachedUpload> {
    const cache = this.config.storage(this.config.cacheStorage);
    const filename = sanitizeFilename(options.filename);
    const rules = this.config.rulesOf(options);
    // Named by the type its bytes show: the client's filename says nothing about what it is.
    const { id, metadata } = await uploadNamedByType(cache, newFileId, body, {
      maxSize: rules.maxSize,
      maxPixels: rules.maxPixels,
      filename,
    });
    await this.checks.validateOrDelete(id, metadata, rules);
    this.metrics.cached(this.config.cacheStorage, metadata.size, options.attachment);
    const file: UploadedFile = { id, storage: this.config.cacheStorage, metadata };
    const token = this.signToken(
      { id, filename, sha256: metadata.sha256 },
      options.owner,
      metadata,
    );
    await this.events.emit({ type: 'cached', file });
    return { token, file };
  }

  /**
   * Sets an attachment from a token (a file the client uploaded to the cache), a stream or
   * Buffer (cached here first), or null (removes it). Nothing is written to the database: save
   * the entity, and the subscriber schedules promotion and deletion.
   */
  attach<T extends ObjectLiteral>(
    entity: T,
    property: keyof T & string,
    source: string | Readable | Buffer | null,
    options: AttachOptions = {},
  ): Promise<UploadedFile | null> {
    return this.tracing.inSpan('attachments.attach', this.spanOf(entity, property), async () => {
      const definition = this.definition(entity, property, false);
      let file: UploadedFile | null = null;
      if (typeof source === 'string') {
        file = await this.checks.fromToken(
          source,
          this.config.rulesOf(definition.options),
          options.owner,
        );
      } else if (source !== null) {
        file = (
          await this.cache(
            source,
            this.cacheOptionsFor(entity, property, definition.options, options.filename),
          )
        ).file;
      }
      if (file) this.fresh.add(file.id);
      (entity as ObjectLiteral)[property] = file;
      return file;
    });
  }

  /**
   * Appends files to an `@Attachments()` list (tokens, streams or Buffers), after the same checks
   * as `attach()`. Nothing is written until the entity is saved; each new file is then promoted
   * on its own. To replace the list, set it to `[]` first.
   */
  attachMany<T extends ObjectLiteral>(
    entity: T,
    property: keyof T & string,
    sources: readonly (string | Readable | Buffer)[],
    options: AttachOptions = {},
  ): Promise<UploadedFile[]> {
    return this.tracing.inSpan('attachments.attach', this.spanOf(entity, property), async () => {
      const definition = this.definition(entity, property, true);
      const list = listOf(entity[property]);
      const { maxCount } = definition.options;
      if (maxCount !== undefined && list.length + sources.length > maxCount) {
        throw new TooManyFilesError(maxCount);
      }
      const added: UploadedFile[] = [];
      for (const source of sources) {
        added.push(
          typeof source === 'string'
            ? await this.checks.fromToken(
                source,
                this.config.rulesOf(definition.options),
                options.owner,
              )
            : (
                await this.cache(
                  source,
                  this.cacheOptionsFor(entity, property, definition.options, options.filename),
                )
              ).file,
        );
      }
      for (const file of added) this.fresh.add(file.id);
      (entity as ObjectLiteral)[property] = [...list, ...added];
      return added;
    });
  }

  /** Removes files from a list by id; saving deletes them in a job. */
  detach<T extends ObjectLiteral>(entity: T, property: keyof T & string, ids: readonly string[]) {
    this.definition(entity, property, true);
    const list = listOf(entity[property]);
    (entity as ObjectLiteral)[property] = list.filter((file) => !ids.includes(file.id));
  }

  /** Puts a list in the order of `ids`, which must name each of its files once. */
  reorder<T extends ObjectLiteral>(entity: T, property: keyof T & string, ids: readonly string[]) {
    this.definition(entity, property, true);
    const list = listOf(entity[property]);
    const sorted = ids.map((id) => list.find((file) => file.id === id));
    if (
      sorted.length !== list.length ||
      new Set(ids).size !== ids.length ||
      sorted.includes(undefined)
    ) {
      throw new AttachmentConfigurationError(
        'reorder() needs every file id of the list, once each',
      );
    }
    (entity as ObjectLiteral)[property] = sorted;
  }

  /** The attributes of an attach span: the record's key only once it has one. */
  private spanOf(entity: ObjectLiteral, property: string): SpanAttributes {
    const { dataSource } = this.config;
    const target = entity.constructor;
    const metadata = dataSource.hasMetadata(target) ? dataSource.getMetadata(target) : null;
    return {
      'attachments.entity': metadata?.name ?? target.name,
      'attachments.record_id': recordIdAttribute(metadata?.getEntityIdMap(entity)),
      'attachments.attachment': property,
      'attachments.storage': this.config.cacheStorage,
    };
  }

  /** How `attach()` and `attachMany()` cache a stream or Buffer for `property`. */
  private cacheOptionsFor(
    entity: ObjectLiteral,
    property: string,
    rules: FileRules,
    filename: string | undefined,
  ): CacheOptions {
    return { ...rules, filename, attachment: { entity: entity.constructor.name, property } };
  }

  private definition(entity: ObjectLiteral, property: string, multiple: boolean) {
    const definition = attachmentOf(entity.constructor, property);
    const decorator = multiple ? '@Attachments()' : '@Attachment()';
    if (!definition || !!definition.multiple !== multiple) {
      throw new AttachmentConfigurationError(
        `${entity.constructor.name}.${property} is not decorated with ${decorator}`,
      );
    }
    return definition;
  }

  /**
   * A URL a browser can use: the storage's public URL, or the files endpoint of the controller
   * for storages without one (signed, for `signedStorages`; `expiresIn` in seconds). With
   * `derivative`, that derivative's URL once it exists, the original's until then; for an
   * `onDemand` derivative of a stored file, given `record` and `attachment`, the signed URL that
   * makes it on its first request instead.
   */
  url(file: UploadedFile, options?: FileUrlOptions): Promise<string> {
    return this.urls.url(file, options);
  }

  /**
   * Measures a file that arrived in the cache by another way (straight from the browser to the
   * storage) and applies the rules to it, reading an image to its end to check its structure;
   * a file that breaks them is deleted before the error is thrown.
   */
  checkCached(id: string, filename: string | null, rules: FileRules): Promise<UploadedFile> {
    return this.checks.measureDirectUpload(id, filename, this.config.rulesOf(rules));
  }
}
