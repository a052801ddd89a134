import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Injectable } from '@nestjs/common';
import { AttachmentsConfig } from '../config/attachments-config.js';
import { AttachmentsService } from '../attaching/attachments.service.js';
import { safeExtension, sanitizeFilename } from '../core/filename.js';
import { inspectStoredFile } from '../storage/inspect-stored-file.js';
import type { UploadedFile } from '../core/uploaded-file.js';
import { validateFile, type FileRules } from '../core/validation.js';
import { AttachmentError, InvalidUploadError } from '../core/errors/index.js';
import type { AttachmentsRequest } from '../config/attachments-module-options.js';
import {
  acceptsDirectUploads,
  type DirectUploadStorage,
  type PresignedUpload,
  type Storage,
  type UploadedPart,
} from '../storage/storage.interface.js';
import { FileUrls } from '../attaching/file-urls.js';
import { text, UploadRules } from './upload-rules.js';

/** Seconds a presigned upload or part URL stays valid. */
const PRESIGN_TTL = 3600;
const MAX_PARTS = 10_000;
/** The ids this service hands out: a UUID and a short extension. Anything else was not ours. */
const ISSUED_ID =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(\.[a-z0-9]{1,10})?$/;

export interface UploadTarget {
  filename?: unknown;
  type?: unknown;
  entity?: unknown;
  attachment?: unknown;
}

/**
 * Direct uploads from the browser to the cache storage itself (S3 and compatible servers), in
 * one presigned request or in parts, following the routes Uppy's AwsS3 plugin calls. The bytes
 * never pass through the app, so the app checks the stored object before it issues a token
 * after a multipart upload, and `attach()` checks it again in every case.
 */
@Injectable()
export class StorageUploadService {
  constructor(
    private readonly config: AttachmentsConfig,
    private readonly attachments: AttachmentsService,
    private readonly rules: UploadRules,
    private readonly urls: FileUrls,
  ) {}

  /** A presigned POST (with a size policy) or PUT for one new cached file, and its token. */
  async presign(request: IncomingMessage, target: UploadTarget, method: 'PUT' | 'POST') {
    const { rules, filename, contentType } = this.describe(target);
    const id = newId(filename);
    const upload: PresignedUpload = await this.cache().presignUpload(id, {
      method,
      expiresIn: PRESIGN_TTL,
      maxSize: rules.maxSize,
      contentType,
    });
    const token = this.attachments.issueToken({ id, filename }, await this.owner(request));
    return { ...upload, key: id, token };
  }

  async createMultipart(target: UploadTarget) {
    const { filename, contentType } = this.describe(target);
    const id = newId(filename);
    const uploadId = await this.cache().createMultipartUpload(id, { contentType });
    return { uploadId, key: id };
  }

  async signPart(key: unknown, uploadId: string, partNumber: string) {
    const part = Number(partNumber);
    if (!Number.isInteger(part) || part < 1 || part > MAX_PARTS) {
      throw new InvalidUploadError(`Part numbers go from 1 to ${MAX_PARTS}, got ${partNumber}`);
    }
    const url = await this.cache().presignUploadPart(issuedId(key), uploadId, part, PRESIGN_TTL);
    return { url, expires: PRESIGN_TTL };
  }

  listParts(key: unknown, uploadId: string): Promise<UploadedPart[]> {
    return this.cache().listUploadedParts(issuedId(key), uploadId);
  }

  /**
   * Joins the parts, then measures the object against the target's rules (deleting it if it
   * breaks them) before a token is issued for it.
   */
  async complete(request: IncomingMessage, key: unknown, uploadId: string, body: unknown) {
    const id = issuedId(key);
    const parts = readParts(body);
    const target = (body ?? {}) as UploadTarget;
    const { rules, filename } = this.describe(target);
    const cache = this.cache();
    await cache.completeMultipartUpload(id, uploadId, parts);
    const file = await this.inspect(cache, id, filename, rules);
    const token = this.attachments.issueToken({ id, filename }, await this.owner(request));
    return { location: await this.urls.url(file), key: id, token, file };
  }

  async abort(key: unknown, uploadId: string): Promise<Record<string, never>> {
    await this.cache().abortMultipartUpload(issuedId(key), uploadId);
    return {};
  }

  private async inspect(cache: Storage, id: string, filename: string | null, rules: FileRules) {
    const metadata = await inspectStoredFile(cache, id, filename);
    try {
      validateFile(metadata, rules);
    } catch (error) {
      if (error instanceof AttachmentError) await cache.delete(id);
      throw error;
    }
    const file: UploadedFile = { id, storage: this.config.cacheStorage, metadata };
    return file;
  }

  private describe(target: UploadTarget) {
    const rules = this.rules.for(text(target.entity), text(target.attachment));
    const filename = sanitizeFilename(text(target.filename));
    const contentType = text(target.type);
    return { rules, filename, contentType };
  }

  private owner(request: IncomingMessage): Promise<string | undefined> {
    return Promise.resolve(this.config.options.upload?.owner?.(request as AttachmentsRequest));
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

function newId(filename: string | null): string {
  return `${randomUUID()}${safeExtension(filename)}`;
}

function issuedId(key: unknown): string {
  if (typeof key !== 'string' || !ISSUED_ID.test(key)) {
    throw new InvalidUploadError('`key` must be the key the create request answered');
  }
  return key;
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
