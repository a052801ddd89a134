import type { IncomingMessage } from 'node:http';
import { Get, Param, Query, Res, type Type } from '@nestjs/common';
import { AttachmentsConfig, type AttachmentsControllerOptions } from '../config/index.js';

import { FileNotFoundError, verifyFileUrl } from '../core/index.js';

import { AttachmentsRoutes } from './attachments-routes.js';
import { FILES_ROUTES } from './openapi.js';
import { describedRoutes } from './openapi-swagger.js';
import { FILES_ROUTE, matchedFileId } from './fastify-routes.js';
import { serveFile } from './file-responder.js';
import { NodeRequest, directResponse } from './node-http.js';

/** Seconds a browser may keep a file of a public storage: its id never names other bytes. */
const PUBLIC_MAX_AGE = 365 * 24 * 3600;

/**
 * Serves the files of storages that have no public URL of their own, under the prefix and guards
 * the app chose; storages marked signed only through the signed URLs `FileUrls` makes.
 */
export function createFilesController(options: AttachmentsControllerOptions): Type {
  @AttachmentsRoutes(options)
  class FilesController {
    constructor(private readonly config: AttachmentsConfig) {}

    @Get(FILES_ROUTE)
    async download(
      @NodeRequest() request: IncomingMessage,
      @Res() reply: unknown,
      @Param() params: Record<string, unknown>,
      @Query() query: Record<string, unknown>,
    ): Promise<void> {
      const storageName = String(params.storage);
      const id = matchedFileId(params);
      if (!this.config.hasStorage(storageName)) throw new FileNotFoundError(id, storageName);
      const filename = typeof query.filename === 'string' ? query.filename : undefined;
      const signed = this.config.signedStorages.has(storageName);
      const grant = { storage: storageName, id, expires: Number(query.expires), filename };
      const maxAge = signed
        ? verifyFileUrl(grant, query.signature, this.config.secret)
        : PUBLIC_MAX_AGE;
      await serveFile(request, directResponse(reply), this.config.storage(storageName), id, {
        filename,
        maxAge,
        visibility: signed ? 'private' : 'public',
      });
    }
  }
  return describedRoutes(FilesController, FILES_ROUTES);
}
