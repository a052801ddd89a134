import type { IncomingMessage, ServerResponse } from 'node:http';
import { Delete, Head, Patch, Post, Res, type Type } from '@nestjs/common';
import type { AttachmentsControllerOptions } from '../config/index.js';
import { AttachmentsRoutes } from './attachments-routes.js';
import { NodeRequest, directResponse } from './node-http.js';
import { TusUploads } from './tus-uploads.service.js';

/** The path of the tus endpoint under the controller's prefix. */
export const TUS_ROUTE = 'tus';

/**
 * Node's response for tus to answer on. Fastify is told it no longer owns the reply (it would
 * otherwise wait to send one of its own); the headers set through it are carried over first.
 */
function handedOver(reply: unknown): ServerResponse {
  const response = directResponse(reply);
  if (hasHijack(reply)) reply.hijack();
  return response;
}

function hasHijack(value: unknown): value is { hijack(): void } {
  return (
    typeof value === 'object' &&
    value !== null &&
    'hijack' in value &&
    typeof value.hijack === 'function'
  );
}

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

    private async pass(request: IncomingMessage, reply: unknown): Promise<void> {
      this.tus.assertEnabled();
      await this.tus.handle(request, handedOver(reply));
    }
  }
  return TusController;
}
