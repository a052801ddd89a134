import { Inject, Injectable } from '@nestjs/common';
import type { ObjectLiteral } from 'typeorm';
import {
  AttachmentsConfig,
  ATTACHMENTS_HTTP,
  type AttachmentsHttpSettings,
} from '../config/index.js';
import { AttachmentConfigurationError, type UploadedFile, signFileUrl } from '../core/index.js';
import { derivativeDefinition } from '../derivatives/index.js';
import { attachmentOf } from '../persistence/index.js';
import { derivativeUrl } from './on-demand-url.js';

/** Options of `url()`. */
export interface FileUrlOptions {
  /**
   * Seconds a signed URL stays valid. Default `signedUrlTtl`, but for the on-demand URL of a
   * storage not in `signedStorages`, which does not expire unless this is given.
   */
  expiresIn?: number;
  /** The URL of this derivative of the file, once it is made. */
  derivative?: string;
  /**
   * The entity whose attachment holds the file, with `attachment`: an `onDemand` derivative
   * not made yet then gets its signed URL, which makes it on the first request.
   */
  record?: ObjectLiteral;
  /** The property of `record` that holds the file. */
  attachment?: string;
}

/**
 * Builds the URL a browser uses for a file: the storage's own public URL where it has one, else
 * the files endpoint of the controller (signed and expiring for storages marked signed).
 */
@Injectable()
export class FileUrls {
  constructor(
    private readonly config: AttachmentsConfig,
    @Inject(ATTACHMENTS_HTTP) private readonly http: AttachmentsHttpSettings | null,
  ) {}

  /**
   * With `derivative`, the URL of that derivative once it is made. Until then, the signed URL
   * that makes it, for an `onDemand` derivative of a stored file whose `record` and
   * `attachment` are given; else the original's, so a page never shows a broken image while
   * jobs run.
   */
  async url(original: UploadedFile, options: FileUrlOptions = {}): Promise<string> {
    const derived = options.derivative ? original.derivatives?.[options.derivative] : undefined;
    if (options.derivative && !derived) {
      const onDemand = this.onDemandUrl(original, options.derivative, options);
      if (onDemand) return onDemand;
    }
    const file = derived ?? original;
    const filename = file.metadata.filename ?? undefined;
    const signed = this.config.signedStorages.has(file.storage);
    const expiresIn = options.expiresIn ?? this.config.signedUrlTtl;
    if (!signed || !this.http) {
      const own = await this.config.storage(file.storage).url(file.id, { expiresIn, filename });
      // A file: URL means the storage has no public address: the files endpoint serves it.
      if (!own.startsWith('file:') || !this.http) return own;
    }
    const path = file.id.split('/').map(encodeURIComponent).join('/');
    const query = new URLSearchParams();
    if (filename) query.set('filename', filename);
    if (signed) {
      const expires = Date.now() + expiresIn * 1000;
      const grant = { storage: file.storage, id: file.id, expires, filename };
      query.set('expires', String(expires));
      query.set('signature', signFileUrl(grant, this.config.secret));
    }
    const search = query.size > 0 ? `?${query}` : '';
    return `${this.http.urlPrefix}/files/${encodeURIComponent(file.storage)}/${path}${search}`;
  }

  /**
   * The signed URL of an unmade on-demand derivative, or undefined where there is none: no
   * controller, no owner named, a cached file (its derivatives wait for promotion), an unsaved
   * record, or a derivative not declared `onDemand`. It does not expire unless `expiresIn` is
   * given or the file's storage is signed: it names the original, so once the record holds
   * another file it serves nothing.
   */
  private onDemandUrl(
    original: UploadedFile,
    name: string,
    { record, attachment, expiresIn }: FileUrlOptions,
  ): string | undefined {
    if (!this.http || !record || !attachment) return undefined;
    if (original.storage === this.config.cacheStorage) return undefined;
    const definition = attachmentOf(record.constructor, attachment);
    if (!definition) {
      throw new AttachmentConfigurationError(
        `${record.constructor.name}.${attachment} is not decorated with @Attachment()`,
      );
    }
    const derivatives = definition.options.derivatives ?? {};
    if (!Object.hasOwn(derivatives, name)) return undefined;
    if (!derivativeDefinition(derivatives[name]!).onDemand) return undefined;
    const metadata = this.config.dataSource.getMetadata(record.constructor);
    const recordId = metadata.getEntityIdMap(record);
    if (!recordId) return undefined;
    const lifetime = this.config.signedStorages.has(original.storage)
      ? (expiresIn ?? this.config.signedUrlTtl)
      : expiresIn;
    const grant = {
      entity: metadata.name,
      attachment,
      name,
      record: JSON.stringify(recordId),
      storage: original.storage,
      file: original.id,
      ...(lifetime === undefined ? {} : { expires: Date.now() + lifetime * 1000 }),
    };
    return derivativeUrl(grant, this.config.secret, this.http.urlPrefix);
  }
}
