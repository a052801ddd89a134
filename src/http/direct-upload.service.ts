import type { IncomingMessage } from 'node:http';
import { Injectable } from '@nestjs/common';
import { AttachmentsConfig } from '../config/index.js';
import {
  AttachmentsService,
  cacheIdOfKey,
  checkClaimOwner,
  FileUrls,
  signCacheId,
} from '../attaching/index.js';
import {
  InvalidUploadError,
  newFileId,
  readSignedFileId,
  safeExtension,
  sanitizeFilename,
  type SignedIdClaim,
  type UploadedFile,
} from '../core/index.js';
import {
  acceptsDirectUploads,
  MAX_PARTS,
  type DirectUploadStorage,
  type PresignedUpload,
  type Storage,
  type UploadedPart,
} from '../storage/index.js';

import { text, UploadRules } from './upload-rules.js';

/** Seconds a presigned upload or part URL stays valid. */
const PRESIGN_TTL = 3600;

/**
 * What a client says of the file it is about to upload; every field is checked, none trusted.
 * Uppy's AwsS3 sends the file's meta as `metadata[name]` query parameters (params) or as a
 * `metadata` object (multipart create); plain `entity` and `attachment` win over them.
 */
export interface UploadTarget {
  filename?: unknown;
  type?: unknown;
  entity?: unknown;
  attachment?: unknown;
  metadata?: unknown;
  [field: `metadata[${string}]`]: unknown;
}

/** What `GET {prefix}/s3/params` answers: one presigned request, and the token for its object. */
export interface DirectUploadParams extends PresignedUpload {
  /** The cached file's id: a signed key, which `attach()` accepts as it accepts the token. */
  key: string;
  token: string;
}

/** What `POST {prefix}/s3/multipart` answers: the upload, and the object key to continue it. */
export interface MultipartUploadStart {
  uploadId: string;
  /** The object's key in the bucket (prefix and signed id), as Companion answers it. */
  key: string;
}

/** What `POST {prefix}/s3/multipart/:uploadId/complete` answers, once the object checked out. */
export interface MultipartUploadCompletion {
  location: string;
  /** The object's key in the bucket: what `attach()` accepts in place of the token. */
  key: string;
  token: string;
  file: UploadedFile;
}

/**
 * Direct uploads from the browser to the cache storage itself (S3 and compatible servers), in
 * one presigned request or in parts, following the routes Uppy's AwsS3 plugin calls. The bytes
 * never pass through the app, so the app checks the stored object before it issues a token
 * after a multipart upload, and `attach()` checks it again in every case.
 */
@Injectable()
export class DirectUploadService {
  constructor(
    private readonly config: AttachmentsConfig,
    private readonly attachments: AttachmentsService,
    private readonly rules: UploadRules,
    private readonly urls: FileUrls,
  ) {}

  /** A presigned POST (with a size policy) or PUT for one new cached file, and its token. */
  async presign(
    request: IncomingMessage,
    target: UploadTarget,
    method: 'PUT' | 'POST',
  ): Promise<DirectUploadParams> {
    const { rules, filename, contentType } = this.describe(target);
    const owner = await this.config.uploadOwner(request);
    const id = this.newSignedId(filename, {}, owner);
    const upload: PresignedUpload = await this.cache().presignUpload(id, {
      method,
      expiresIn: PRESIGN_TTL,
      maxSize: rules.maxSize,
      contentType,
    });
    const token = this.attachments.issueToken({ id, filename }, owner);
    return { ...upload, key: id, token };
  }

  /**
   * Starts a multipart upload. What completion needs from the client's first request (filename,
   * attachment, uploader) is signed into the key, so completion never relies on its own body.
   */
  async createMultipart(
    request: IncomingMessage,
    target: UploadTarget,
  ): Promise<MultipartUploadStart> {
    const { filename, contentType, entity, attachment } = this.describe(target);
    const owner = await this.config.uploadOwner(request);
    const named = { ...(entity ? { entity } : {}), ...(attachment ? { attachment } : {}) };
    const id = this.newSignedId(filename, named, owner);
    const uploadId = await this.cache().createMultipartUpload(id, { contentType });
    return { uploadId, key: this.objectKey(id) };
  }

  async signPart(key: unknown, uploadId: string, partNumber: string) {
    const part = Number(partNumber);
    if (!Number.isInteger(part) || part < 1 || part > MAX_PARTS) {
      throw new InvalidUploadError(`Part numbers go from 1 to ${MAX_PARTS}, got ${partNumber}`);
    }
    const { id } = this.issued(key);
    const url = await this.cache().presignUploadPart(id, uploadId, part, PRESIGN_TTL);
    return { url, expires: PRESIGN_TTL };
  }

  listParts(key: unknown, uploadId: string): Promise<UploadedPart[]> {
    return this.cache().listUploadedParts(this.issued(key).id, uploadId);
  }

  /**
   * Joins the parts, then measures the object against the rules of the attachment named at
   * create (deleting it if it breaks them) before a token is issued for it. Only the uploader
   * who started the upload can complete it.
   */
  async complete(
    request: IncomingMessage,
    key: unknown,
    uploadId: string,
    body: unknown,
  ): Promise<MultipartUploadCompletion> {
    const { id, claim } = this.issued(key);
    const owner = await this.config.uploadOwner(request);
    checkClaimOwner(this.config, claim, owner);
    const parts = readParts(body);
    // What create was told wins; the body is read only for what create was not told.
    const late = asTarget(body);
    const told = claim.entity || claim.attachment ? claim : late;
    const { rules, filename: lateName } = this.describe({
      entity: told.entity,
      attachment: told.attachment,
      filename: late.filename,
    });
    const filename = claim.filename ?? lateName;
    await this.cache().completeMultipartUpload(id, uploadId, parts);
    const file = await this.attachments.checkCached(id, filename, rules);
    const token = this.attachments.issueToken({ id, filename }, owner);
    return { location: await this.urls.url(file), key: this.objectKey(id), token, file };
  }

  async abort(key: unknown, uploadId: string): Promise<Record<string, never>> {
    await this.cache().abortMultipartUpload(this.issued(key).id, uploadId);
    return {};
  }

  private describe(target: UploadTarget) {
    const entity = text(target.entity) ?? metaField(target, 'entity');
    const attachment = text(target.attachment) ?? metaField(target, 'attachment');
    const rules = this.rules.for(entity, attachment);
    const filename = sanitizeFilename(text(target.filename) ?? metaField(target, 'name'));
    const contentType = text(target.type) ?? metaField(target, 'type');
    return { rules, filename, contentType, entity, attachment };
  }

  private newSignedId(
    filename: string | null,
    named: Pick<SignedIdClaim, 'entity' | 'attachment'>,
    owner: string | undefined,
  ): string {
    // The key is named before any byte exists, so only the filename can suggest an extension;
    // the files endpoint still sends any type outside its inert list as a download.
    const basename = newFileId(safeExtension(filename));
    return signCacheId(
      this.config,
      basename,
      { ...named, ...(filename ? { filename } : {}) },
      owner,
    );
  }

  /** The id and claim of a key this app signed (the object key or the bare id), else 400. */
  private issued(key: unknown): { id: string; claim: SignedIdClaim } {
    const id = typeof key === 'string' ? cacheIdOfKey(this.config, key) : '';
    try {
      return { id, claim: readSignedFileId(id, this.config.secret, this.config.cacheStorage) };
    } catch {
      throw new InvalidUploadError('`key` must be the key the create request answered');
    }
  }

  /** The key S3 and Uppy name the object by: the cache storage's prefix, then the id. */
  private objectKey(id: string): string {
    return (this.cache().prefix ?? '') + id;
  }

  private cache(): Storage & DirectUploadStorage {
    const cache = this.config.storage(this.config.cacheStorage);
    if (!acceptsDirectUploads(cache)) {
      throw new InvalidUploadError(
        `The cache storage "${this.config.cacheStorage}" does not accept direct uploads; use POST upload`,
      );
    }
    return cache;
  }
}

/** A field of Uppy's file meta: `metadata[name]` in a query, `metadata.name` in a JSON body. */
function metaField(target: UploadTarget, name: string): string | undefined {
  const nested = target.metadata;
  const inObject =
    typeof nested === 'object' && nested !== null
      ? (nested as Record<string, unknown>)[name]
      : undefined;
  return text(target[`metadata[${name}]`]) ?? text(inObject);
}

function asTarget(body: unknown): UploadTarget {
  return typeof body === 'object' && body !== null ? (body as UploadTarget) : {};
}

function readParts(body: unknown): UploadedPart[] {
  const parts = (body as { parts?: unknown } | null)?.parts;
  const valid =
    Array.isArray(parts) &&
    parts.length > 0 &&
    parts.length <= MAX_PARTS &&
    parts.every(
      (part: Partial<UploadedPart>) =>
        Number.isInteger(part?.PartNumber) && typeof part?.ETag === 'string',
    );
  if (!valid) throw new InvalidUploadError('`parts` must list {PartNumber, ETag} of every part');
  return (parts as UploadedPart[]).map(({ PartNumber, ETag }) => ({ PartNumber, ETag }));
}
