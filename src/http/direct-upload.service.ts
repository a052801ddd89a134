import type { IncomingMessage } from 'node:http';
import { Injectable } from '@nestjs/common';
import { AttachmentsConfig } from '../config/index.js';
import { AttachmentsService, FileUrls } from '../attaching/index.js';
import {
  InvalidUploadError,
  isNewFileId,
  newFileId,
  safeExtension,
  sanitizeFilename,
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

/** What a client says of the file it is about to upload; every field is checked, none trusted. */
export interface UploadTarget {
  filename?: unknown;
  type?: unknown;
  entity?: unknown;
  attachment?: unknown;
}

/** What `GET {prefix}/s3/params` answers: one presigned request, and the token for its object. */
export interface DirectUploadParams extends PresignedUpload {
  key: string;
  token: string;
}

/** What `POST {prefix}/s3/multipart/:uploadId/complete` answers, once the object checked out. */
export interface MultipartUploadCompletion {
  location: string;
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
    // The key is named before any byte exists, so only the filename can suggest an extension;
    // the files endpoint still sends any type outside its inert list as a download.
    const id = newFileId(safeExtension(filename));
    const upload: PresignedUpload = await this.cache().presignUpload(id, {
      method,
      expiresIn: PRESIGN_TTL,
      maxSize: rules.maxSize,
      contentType,
    });
    const token = this.attachments.issueToken({ id, filename }, owner);
    return { ...upload, key: id, token };
  }

  async createMultipart(target: UploadTarget) {
    const { filename, contentType } = this.describe(target);
    const id = newFileId(safeExtension(filename));
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
  async complete(
    request: IncomingMessage,
    key: unknown,
    uploadId: string,
    body: unknown,
  ): Promise<MultipartUploadCompletion> {
    const id = issuedId(key);
    const parts = readParts(body);
    const target = (body ?? {}) as UploadTarget;
    const { rules, filename } = this.describe(target);
    const cache = this.cache();
    await cache.completeMultipartUpload(id, uploadId, parts);
    const file = await this.attachments.checkCached(id, filename, rules);
    const owner = await this.config.uploadOwner(request);
    const token = this.attachments.issueToken({ id, filename }, owner);
    return { location: await this.urls.url(file), key: id, token, file };
  }

  async abort(key: unknown, uploadId: string): Promise<Record<string, never>> {
    await this.cache().abortMultipartUpload(issuedId(key), uploadId);
    return {};
  }

  private describe(target: UploadTarget) {
    const rules = this.rules.for(text(target.entity), text(target.attachment));
    const filename = sanitizeFilename(text(target.filename));
    const contentType = text(target.type);
    return { rules, filename, contentType };
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

function issuedId(key: unknown): string {
  if (!isNewFileId(key)) {
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
