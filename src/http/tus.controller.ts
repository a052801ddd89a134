import type { IncomingMessage } from 'node:http';
import { Delete, Head, Patch, Post, Res, type Type } from '@nestjs/common';
import type { AttachmentsControllerOptions } from '../config/index.js';
import { AttachmentsRoutes } from './attachments-routes.js';
import { TUS_ROUTES } from './openapi.js';
import { describedRoutes } from './openapi-swagger.js';
import { NodeRequest } from './node-http.js';
import { TusUploads } from './tus-uploads.service.js';

/** The path of the tus endpoint under the controller's prefix. */
export const TUS_ROUTE = 'tus';

/**
 * The tus endpoint under the prefix and guards the app chose: creation (`POST {prefix}/tus`),
 * then `HEAD`, `PATCH` and `DELETE` of `{prefix}/tus/:id`, all answered by `@tus/server`.
 */
export function createTusController(options: AttachmentsControllerOptions): Type {
  @AttachmentsRoutes(options, TUS_ROUTE)
  class TusController {
    constructor(private readonly tus: TusUploads) {}

    @Post()
    create(@NodeRequest() request: IncomingMessage, @Res() reply: unknown): Promise<void> {
      return this.pass(request, reply);
    }

    @Head(':id')
    offset(@NodeRequest() request: IncomingMessage, @Res() reply: unknown): Promise<void> {
      return this.pass(request, reply);
    }

    @Patch(':id')
    append(@NodeRequest() request: IncomingMessage, @Res() reply: unknown): Promise<void> {
      return this.pass(request, reply);
    }

    @Delete(':id')
    terminate(@NodeRequest() request: IncomingMessage, @Res() reply: unknown): Promise<void> {
      return this.pass(request, reply);
    }

    private pass(request: IncomingMessage, reply: unknown): Promise<void> {
      return this.tus.handle(request, reply);
    }
  }
  return describedRoutes(TusController, TUS_ROUTES);
}
