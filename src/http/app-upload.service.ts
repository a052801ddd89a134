import type { IncomingMessage } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { AttachmentsConfig } from '../config/index.js';
import { AttachmentsService, type CachedUpload, FileUrls } from '../attaching/index.js';
import { type UploadedFile, FileTooLargeError } from '../core/index.js';
import { carrierOf, Tracing, type TracedSpan } from '../telemetry/index.js';

import { receiveSingleFile } from './single-file-upload.js';
import { text, UploadRules } from './upload-rules.js';

/** What the upload endpoint answers; Uppy's XHRUpload reads `url` as the upload's URL. */
export interface UploadResponse {
  token: string;
  /** Just cached: no derivatives yet, and no list's source. */
  file: Omit<UploadedFile, 'derivatives' | 'source'>;
  url: string;
}

/** Room for multipart boundaries and part headers on top of the file itself. */
const MULTIPART_OVERHEAD = 64 * 1024;

/**
 * Uploads through the app: streams the one file of a multipart request into the cache, under
 * the rules of the attachment it is meant for.
 */
@Injectable()
export class AppUploadService {
  /** Injected as a property, so that the declarations never name OpenTelemetry's types. */
  @Inject(Tracing) private readonly tracing!: Tracing;

  constructor(
    private readonly config: AttachmentsConfig,
    private readonly attachments: AttachmentsService,
    private readonly urls: FileUrls,
    private readonly rules: UploadRules,
  ) {}

  receive(request: IncomingMessage, query: Record<string, unknown>): Promise<UploadResponse> {
    return this.tracing.inSpan(
      'attachments.upload',
      { 'attachments.storage': this.config.cacheStorage },
      (span) => this.receiveIn(span, request, query),
      { remote: carrierOf(request.headers) },
    );
  }

  private async receiveIn(
    span: TracedSpan,
    request: IncomingMessage,
    query: Record<string, unknown>,
  ): Promise<UploadResponse> {
    const owner = await this.config.uploadOwner(request);
    const declared = Number(request.headers['content-length']);
    const entity = text(query.entity);
    const attachment = text(query.attachment);
    // A body announced as too large is refused before a byte of it is read: over the named
    // attachment's limit, or, when the query names none, over the module's cap (form fields
    // may still name one; a file is then cut off once it passes that attachment's limit).
    const upfront = entity && attachment ? this.rules.for(entity, attachment) : undefined;
    const cap = upfront ? upfront.maxSize : this.rules.largestUnnamed();
    if (cap !== undefined && declared > cap + MULTIPART_OVERHEAD) {
      throw new FileTooLargeError(cap);
    }
    const upload = await receiveSingleFile<CachedUpload>(
      request,
      async ({ stream, filename, fields }) => {
        const named = {
          entity: entity ?? text(fields.entity),
          attachment: attachment ?? text(fields.attachment),
        };
        span.set({
          'attachments.entity': named.entity,
          'attachments.attachment': named.attachment,
        });
        const rules = upfront ?? this.rules.for(named.entity, named.attachment);
        return this.attachments.cache(stream, { ...rules, filename, owner });
      },
      ({ file }) => this.config.storage(file.storage).delete(file.id),
      { idleTimeout: this.config.uploadIdleTimeout },
    );
    const { metadata } = upload.file;
    span.set({ 'attachments.bytes': metadata.size, 'attachments.mime_type': metadata.mimeType });
    return { ...upload, url: await this.urls.url(upload.file) };
  }
}
