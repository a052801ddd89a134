import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  Controller,
  Get,
  Header,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseFilters,
  UseGuards,
  type Type,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { AttachmentsConfig } from '../config/attachments-config.js';
import { FileNotFoundError } from '../core/errors/index.js';
import type { AttachmentsControllerOptions } from '../config/attachments-module-options.js';
import { DirectUploadService, type DirectUploadResponse } from './app-uploads.service.js';
import { AttachmentErrorFilter } from './error-filter.js';
import { serveFile } from './file-responder.js';
import { verifyFileUrl } from '../core/signed-file-url.js';

/**
 * Builds the controller for the prefix and guards the app chose; routes are fixed when a class
 * is decorated, so each module declaration gets its own class.
 */
export function createAttachmentsController(options: AttachmentsControllerOptions): Type {
  @Controller(options.path ?? 'attachments')
  @UseGuards(...(options.guards ?? []))
  @UseFilters(AttachmentErrorFilter)
  class AttachmentsController {
    constructor(
      private readonly config: AttachmentsConfig,
      private readonly uploads: DirectUploadService,
    ) {}

    /** One file in multipart field `file`; `?entity=&attachment=` selects that attachment's rules. */
    @Post('upload')
    @HttpCode(201)
    upload(
      @Req() request: Request,
      @Query() query: Record<string, unknown>,
    ): Promise<DirectUploadResponse> {
      return this.uploads.receive(request, query);
    }

    @Get('files/:storage/*id')
    async download(
      @Req() request: Request,
      @Res() response: Response,
      @Param('storage') storageName: string,
      @Param('id') segments: string[] | string,
      @Query() query: Record<string, unknown>,
    ): Promise<void> {
      const id = Array.isArray(segments) ? segments.join('/') : segments;
      if (!this.config.hasStorage(storageName)) throw new FileNotFoundError(id, storageName);
      const filename = typeof query.filename === 'string' ? query.filename : undefined;
      const signed = this.config.signedStorages.has(storageName);
      let maxAge = 365 * 24 * 3600;
      if (signed) {
        const expires = Number(query.expires);
        const grant = { storage: storageName, id, expires, filename };
        verifyFileUrl(grant, query.signature, this.config.secret);
        maxAge = Math.max(0, Math.floor((expires - Date.now()) / 1000));
      }
      await serveFile(request, response, this.config.storage(storageName), id, {
        filename,
        maxAge,
        visibility: signed ? 'private' : 'public',
      });
    }

    /** The browser client, so a page can `import` it from the same origin. */
    @Get('client.js')
    @Header('Content-Type', 'text/javascript; charset=utf-8')
    @Header('Cache-Control', 'public, max-age=3600')
    async client(@Res() response: Response): Promise<void> {
      createReadStream(await clientScriptPath()).pipe(response);
    }
  }
  return AttachmentsController;
}

let clientScript: string | undefined;

/** `client/direct-upload.js` at the package root, found from dist/ or from a build of the repo. */
async function clientScriptPath(): Promise<string> {
  if (clientScript) return clientScript;
  for (const relative of ['../../client/', '../../../client/']) {
    const candidate = fileURLToPath(new URL(`${relative}direct-upload.js`, import.meta.url));
    if (
      await access(candidate).then(
        () => true,
        () => false,
      )
    )
      return (clientScript = candidate);
  }
  throw new FileNotFoundError('direct-upload.js');
}
