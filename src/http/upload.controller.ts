import type { IncomingMessage } from 'node:http';
import { HttpCode, Post, Query, type Type } from '@nestjs/common';
import type { AttachmentsControllerOptions } from '../config/index.js';
import { AppUploadService, type UploadResponse } from './app-upload.service.js';
import { AttachmentsRoutes } from './attachments-routes.js';
import { UPLOAD_ROUTES } from './openapi.js';
import { describedRoutes } from './openapi-swagger.js';
import { NodeRequest } from './node-http.js';

/**
 * The upload through the app, under the prefix and guards the app chose: routes are fixed when
 * a class is decorated, so each module declaration gets its own class.
 */
export function createUploadController(options: AttachmentsControllerOptions): Type {
  @AttachmentsRoutes(options)
  class UploadController {
    constructor(private readonly uploads: AppUploadService) {}

    /** One file in multipart field `file`; `?entity=&attachment=` selects that attachment's rules. */
    @Post('upload')
    @HttpCode(201)
    upload(
      @NodeRequest() request: IncomingMessage,
      @Query() query: Record<string, unknown>,
    ): Promise<UploadResponse> {
      return this.uploads.receive(request, query);
    }
  }
  return describedRoutes(UploadController, UPLOAD_ROUTES);
}
