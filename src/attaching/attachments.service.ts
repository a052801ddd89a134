import type { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import type { ObjectLiteral } from 'typeorm';
import { AttachmentsConfig } from '../config/index.js';
import {
  newFileId,
  sanitizeFilename,
  signUploadToken,
  type UploadedFile,
  validateFile,
  type FileRules,
  AttachmentConfigurationError,
  AttachmentError,
  TokenAlreadyUsedError,
  TooManyFilesError,
  type FileMetadata,
  measuredFactsOf,
  listOf,
  assertSafeFileId,
} from '../core/index.js';
import { checkStoredStructure, inspectStoredFile, uploadNamedByType } from '../storage/index.js';
import { attachmentOf, claimOf, insertClaim, isClaimed } from '../persistence/index.js';
import { FreshAttachments } from '../lifecycle/index.js';
import { AttachmentEvents } from '../events/index.js';
import { FileUrls } from './file-urls.js';
import { type UploadClaim, verifyUploadClaim } from './upload-claims.js';

/** Options of `cache()`: the rules the file must meet, its name, and who uploads it. */
export interface CacheOptions extends FileRules {
  /** Original filename as the client gave it; sanitized before it is kept. */
  filename?: string;
  /** Binds the issued token to this uploader. */
  owner?: string;
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
  constructor(
    private readonly config: AttachmentsConfig,
    private readonly urls: FileUrls,
    private readonly events: AttachmentEvents,
    private readonly fresh: FreshAttachments,
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
    await this.validateOrDelete(id, metadata, rules);
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
  async attach<T extends ObjectLiteral>(
    entity: T,
    property: keyof T & string,
    source: string | Readable | Buffer | null,
    options: AttachOptions = {},
  ): Promise<UploadedFile | null> {
    const definition = this.definition(entity, property, false);
    let file: UploadedFile | null = null;
    if (typeof source === 'string') {
      file = await this.fromToken(source, this.config.rulesOf(definition.options), options.owner);
    } else if (source !== null) {
      file = (await this.cache(source, { ...definition.options, filename: options.filename })).file;
    }
    if (file) this.fresh.add(file.id);
    (entity as ObjectLiteral)[property] = file;
    return file;
  }

  /**
   * Appends files to an `@Attachments()` list (tokens, streams or Buffers), after the same checks
   * as `attach()`. Nothing is written until the entity is saved; each new file is then promoted
   * on its own. To replace the list, set it to `[]` first.
   */
  async attachMany<T extends ObjectLiteral>(
    entity: T,
    property: keyof T & string,
    sources: readonly (string | Readable | Buffer)[],
    options: AttachOptions = {},
  ): Promise<UploadedFile[]> {
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
          ? await this.fromToken(source, this.config.rulesOf(definition.options), options.owner)
          : (await this.cache(source, { ...definition.options, filename: options.filename })).file,
      );
    }
    for (const file of added) this.fresh.add(file.id);
    (entity as ObjectLiteral)[property] = [...list, ...added];
    return added;
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
   * `derivative`, that derivative's URL once it exists, the original's until then.
   */
  url(file: UploadedFile, options?: { expiresIn?: number; derivative?: string }): Promise<string> {
    return this.urls.url(file, options);
  }

  private async fromToken(token: string, rules: FileRules, owner?: string): Promise<UploadedFile> {
    // A token, or the signed key a direct upload reported (Uppy's AwsS3 keeps only the key).
    const claim = verifyUploadClaim(this.config, token, owner);
    // Checked before any query: the id goes into SQL parameters and a storage path.
    assertSafeFileId(claim.id);
    const metadata = await this.metadataOf(claim);
    // A save may have claimed the file since the check above: delete it only once it is ours.
    // A token with a SHA-256 names bytes this server streamed through its probe, which checked
    // an image's structure already; any other file (a direct upload) is read to its end here.
    await this.validateOrDelete(claim.id, metadata, rules, {
      take: () => this.claimForDeletion(claim.id),
      wholeImage: !claim.sha256,
    });
    return { id: claim.id, storage: this.config.cacheStorage, metadata };
  }

  /**
   * The metadata of the cached file a token names, once no save is known to have claimed it.
   * A token from `cache()` carries what was measured as the bytes came in, and nothing can
   * have written the file since (no client is ever given a way to): it is taken as is, with no
   * look at the storage. A file the sweep may delete has an expired token, so a file missing
   * now was removed behind the library's back; its promotion then fails for good, visibly
   * (the attachment's state turns `failed`). Any other file is measured from the storage.
   */
  private async metadataOf(claim: UploadClaim): Promise<FileMetadata> {
    await this.assertUnclaimed(claim.id);
    const filename = claim.filename ?? null;
    const sha256 = claim.sha256 ? { sha256: claim.sha256 } : {};
    if (claim.measured) return { filename, ...claim.measured, ...sha256 };
    const cache = this.config.storage(this.config.cacheStorage);
    return { ...(await inspectStoredFile(cache, claim.id, filename)), ...sha256 };
  }

  /** The early, clear refusal of a token used already; the claim a save inserts is the rule. */
  private async assertUnclaimed(fileId: string): Promise<void> {
    if (await isClaimed(this.config.dataSource.manager, fileId)) {
      throw new TokenAlreadyUsedError(fileId);
    }
  }

  /**
   * Measures a file that arrived in the cache by another way (straight from the browser to the
   * storage) and applies the rules to it, reading an image to its end to check its structure;
   * a file that breaks them is deleted before the error is thrown. No token names it yet, so
   * nobody else can have attached it.
   */
  async checkCached(id: string, filename: string | null, rules: FileRules): Promise<UploadedFile> {
    const cache = this.config.storage(this.config.cacheStorage);
    const metadata = await inspectStoredFile(cache, id, filename);
    await this.validateOrDelete(id, metadata, this.config.rulesOf(rules), { wholeImage: true });
    return { id, storage: this.config.cacheStorage, metadata };
  }

  /**
   * A file that breaks the rules is deleted, once `take` (if given) has made it ours. With
   * `wholeImage`, an image is also read to its end through the structure check.
   */
  private async validateOrDelete(
    id: string,
    metadata: UploadedFile['metadata'],
    rules: FileRules,
    options: { take?: () => Promise<boolean>; wholeImage?: boolean } = {},
  ) {
    const { take = async () => true, wholeImage = false } = options;
    try {
      validateFile(metadata, rules);
      if (wholeImage) await checkStoredStructure(this.config.storage(this.config.cacheStorage), id);
    } catch (error) {
      if (error instanceof AttachmentError && (await take())) {
        await this.config.storage(this.config.cacheStorage).delete(id);
      }
      throw error;
    }
  }

  /**
   * Takes a cached file the way a save does, with a claim row, so that no save can attach it
   * afterwards. False when the row cannot be written: a save holds the claim (the primary key
   * refuses a second one), or the database failed. The file is then left to that save, or to
   * the sweep, and the caller still gets its validation error.
   */
  private async claimForDeletion(fileId: string): Promise<boolean> {
    const now = Date.now();
    try {
      await insertClaim(this.config.dataSource.manager, claimOf(fileId, now, this.config.cacheTtl));
      return true;
    } catch {
      return false;
    }
  }
}
