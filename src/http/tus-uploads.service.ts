import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { Inject, Injectable, Logger, NotFoundException, type OnModuleInit } from '@nestjs/common';
import type { FileStore } from '@tus/file-store';
import type { Server, Upload } from '@tus/server';
import {
  ATTACHMENTS_HTTP,
  AttachmentsConfig,
  ResumableUploadSweeps,
  type AttachmentsHttpSettings,
} from '../config/index.js';
import { AttachmentsService, FileUrls } from '../attaching/index.js';
import type { FileRules, TraceCarrier } from '../core/index.js';
import { carrierOf, Tracing } from '../telemetry/index.js';
import type { UploadResponse } from './app-upload.service.js';
import { handedOver, keepRefusalsReadable } from './tus-connection.js';
import { loadTusPackages } from './tus-packages.js';
import {
  describeUpload,
  OWNER_KEY,
  ownerTag,
  type TusMetadata,
  withOwner,
} from './tus-metadata.js';
import { asTusRefusal, jsonRefusal } from './tus-refusal.js';
import { UploadRules } from './upload-rules.js';

/** The header of the final answer that carries the token, besides its JSON body. */
export const TUS_TOKEN_HEADER = 'Upload-Token';

/** Ids the tus endpoint hands out: 32 hex characters, nothing a path could be made of. */
const UPLOAD_ID = /^[0-9a-f]{32}$/;

/** What one request to the tus endpoint carries through `@tus/server`'s hooks. */
interface TusRequest {
  method: string;
  owner: string | undefined;
  /** The rules of the upload the request creates or continues, once known. */
  rules?: FileRules;
  /** The caller's trace context, for the span of the request that brings the last byte. */
  trace?: TraceCarrier;
}

/**
 * Resumable uploads over tus 1.0, on `@tus/server`. Bytes wait in a folder (`upload.tus`'s
 * `directory`) until the last one arrives; the file is then streamed into the cache storage,
 * measured and checked as the upload endpoint does, and the staged copy removed whatever the
 * outcome. The final answer carries the token.
 *
 * Each upload is held to the rules of the attachment its metadata names, from the creation on
 * (an announced length over `maxSize` is refused before any byte), and bound to its uploader.
 */
@Injectable()
export class TusUploads implements OnModuleInit {
  private readonly logger = new Logger('Attachments');
  /** Injected as a property, so that the declarations never name OpenTelemetry's types. */
  @Inject(Tracing) private readonly tracing!: Tracing;
  private readonly requests = new AsyncLocalStorage<TusRequest>();
  private server: Server | null = null;
  private store: FileStore | null = null;

  constructor(
    private readonly config: AttachmentsConfig,
    private readonly attachments: AttachmentsService,
    private readonly urls: FileUrls,
    private readonly rules: UploadRules,
    private readonly sweeps: ResumableUploadSweeps,
    @Inject(ATTACHMENTS_HTTP) private readonly http: AttachmentsHttpSettings | null,
  ) {}

  async onModuleInit(): Promise<void> {
    const settings = this.config.tus;
    if (!settings) return;
    const { Server, FileStore } = await loadTusPackages();
    await mkdir(settings.directory, { recursive: true });
    // No expiration of tus's own: the cache sweep removes abandoned uploads. With one, tus
    // would read a finished upload again after the last hook, which has already removed it.
    const store = new FileStore({ directory: settings.directory });
    this.store = store;
    // Whichever process runs the sweep removes the abandoned uploads of the shared folder.
    this.sweeps.register((cutoff) => this.sweep(cutoff));
    if (!this.http) return;
    this.server = new Server({
      path: `${this.http.urlPrefix}/tus`,
      datastore: store,
      // Resolved against the endpoint's URL by clients, so it holds behind proxies too.
      relativeLocation: true,
      // Cross-origin access is the app's to grant (`enableCors`), as for every other route.
      allowedOrigins: [],
      exposedHeaders: [TUS_TOKEN_HEADER],
      maxSize: () => this.current().rules?.maxSize ?? this.config.uploadMaxSize,
      namingFunction: (_request, metadata) => this.name(metadata),
      onIncomingRequest: (_request, id) => this.admit(id),
      onUploadCreate: (_request, upload) => this.create(upload),
      onUploadFinish: (_request, upload) => this.finish(upload),
      onResponseError: (_request, error) => this.refusal(error),
    });
  }

  /**
   * Hands one request to tus. A refusal is answered while the rest of the body is read and
   * thrown away within `upload.drain`, so that every client reads it.
   */
  async handle(request: IncomingMessage, reply: unknown): Promise<void> {
    const server = this.enabled();
    const owner = await this.config.uploadOwner(request);
    // From here on tus answers; until here the error filter does, on any adapter.
    const response = handedOver(reply);
    keepRefusalsReadable(request, response, this.config.uploadDrain);
    const trace = carrierOf(request.headers);
    await this.requests.run({ method: request.method ?? '', owner, trace }, () =>
      server.handle(request, response),
    );
  }

  private enabled(): Server {
    if (!this.server) throw new NotFoundException('Resumable uploads (tus) are not enabled');
    return this.server;
  }

  private current(): TusRequest {
    const request = this.requests.getStore();
    if (!request) throw new Error('A tus hook ran outside of a request to the tus endpoint');
    return request;
  }

  /** Creation: the attachment the metadata names must exist; its rules hold from here on. */
  private async name(metadata: TusMetadata): Promise<string> {
    const { entity, attachment } = describeUpload(metadata);
    try {
      this.current().rules = this.rules.for(entity, attachment);
    } catch (error) {
      throw asTusRefusal(error);
    }
    return randomBytes(16).toString('hex');
  }

  private async create(upload: Upload): Promise<{ metadata: Record<string, string | null> }> {
    const { owner } = this.current();
    const tag = owner === undefined ? undefined : ownerTag(owner, this.config.secret);
    return { metadata: withOwner(upload.metadata, tag) };
  }

  /**
   * HEAD, PATCH and DELETE of an upload: only by the uploader who began it. Another one is told
   * no such upload exists, as for an id never handed out.
   */
  private async admit(id: string): Promise<void> {
    const request = this.current();
    if (request.method === 'POST') return;
    const notFound = { status_code: 404, body: 'The file for this url was not found' };
    if (!UPLOAD_ID.test(id)) throw notFound;
    const upload = await this.store!.getUpload(id);
    const tag = upload.metadata?.[OWNER_KEY] ?? undefined;
    const caller =
      request.owner === undefined ? undefined : ownerTag(request.owner, this.config.secret);
    if (tag !== caller) throw notFound;
    const { entity, attachment } = describeUpload(upload.metadata);
    try {
      request.rules = this.rules.for(entity, attachment);
    } catch (error) {
      throw asTusRefusal(error);
    }
  }

  /**
   * The last byte arrived: into the cache, measured and checked, and the token answered. Its
   * span is the upload's: the requests before it only staged bytes.
   */
  private finish(upload: Upload) {
    const request = this.current();
    return this.tracing.inSpan(
      'attachments.upload',
      { 'attachments.storage': this.config.cacheStorage, 'attachments.protocol': 'tus' },
      async (span) => {
        const store = this.store!;
        try {
          const { entity, attachment, filename } = describeUpload(upload.metadata);
          span.set({ 'attachments.entity': entity, 'attachments.attachment': attachment });
          const rules = request.rules ?? this.rules.for(entity, attachment);
          const cached = await this.attachments.cache(store.read(upload.id), {
            ...rules,
            filename,
            owner: request.owner,
          });
          const { size, mimeType } = cached.file.metadata;
          span.set({ 'attachments.bytes': size, 'attachments.mime_type': mimeType });
          const answer: UploadResponse = { ...cached, url: await this.urls.url(cached.file) };
          return {
            // A creation answers 201 with its Location, which clients need; a PATCH 200 with a body.
            ...(request.method === 'PATCH' ? { status_code: 200 } : {}),
            headers: { 'Content-Type': 'application/json', [TUS_TOKEN_HEADER]: cached.token },
            body: JSON.stringify(answer),
          };
        } catch (error) {
          throw asTusRefusal(error);
        } finally {
          await store.remove(upload.id).catch((error: unknown) => {
            this.logger.warn(
              `Could not remove the finished tus upload ${upload.id}: ${String(error)}`,
            );
          });
        }
      },
      { remote: request.trace },
    );
  }

  private refusal(error: Error | { status_code: number; body: string }) {
    const answer = jsonRefusal(error);
    if (answer.status_code >= 500) {
      this.logger.error(error instanceof Error ? error.stack : JSON.stringify(error));
    }
    return answer;
  }

  /** Removes the uploads begun before `cutoff` that never finished. */
  private async sweep(cutoff: Date): Promise<number> {
    const store = this.store!;
    let removed = 0;
    for (const id of (await store.configstore.list?.()) ?? []) {
      const upload = await store.configstore.get(id);
      const created = upload?.creation_date ? Date.parse(upload.creation_date) : Number.NaN;
      // An upload without a readable creation date is as old as can be.
      if (created >= cutoff.getTime()) continue;
      await store.remove(id).catch(() => store.configstore.delete(id));
      removed += 1;
    }
    return removed;
  }
}
