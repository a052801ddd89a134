import { Inject, Injectable } from '@nestjs/common';
import {
  AttachmentsConfig,
  ATTACHMENTS_HTTP,
  type AttachmentsHttpSettings,
} from '../config/index.js';
import { type UploadedFile, signFileUrl } from '../core/index.js';

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
   * With `derivative`, the URL of that derivative once it is made, and of the original until
   * then, so a page never shows a broken image while jobs run.
   */
  async url(
    original: UploadedFile,
    options: { expiresIn?: number; derivative?: string } = {},
  ): Promise<string> {
    const derived = options.derivative ? original.derivatives?.[options.derivative] : undefined;
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
}
