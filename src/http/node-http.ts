import { IncomingMessage, ServerResponse, type OutgoingHttpHeaders } from 'node:http';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { AttachmentsRequest } from '../config/index.js';
import { AttachmentConfigurationError } from '../core/index.js';

/**
 * Node's request under whatever Nest's HTTP adapter hands a route: Express's request is Node's
 * own, extended; Fastify's wraps it in `raw`. Uploads stream from it, so it must be Node's.
 */
export function nodeRequest(request: unknown): IncomingMessage {
  return unwrap(request, IncomingMessage, 'request');
}

/** Node's response under the adapter's: the files endpoint streams into it and sets its headers. */
export function nodeResponse(response: unknown): ServerResponse {
  return unwrap(response, ServerResponse, 'response');
}

/**
 * Node's response, for a route that writes its answer there itself. Fastify keeps the headers
 * set through its reply (by hooks, guards or interceptors: security headers, CORS) on the reply
 * until the reply sends, which such a route never asks it to; they are carried over, so the
 * answer has them as an answer sent through the reply would. Express sets them on Node's own.
 */
export function directResponse(response: unknown): ServerResponse {
  const raw = nodeResponse(response);
  if (raw !== response && hasHeaders(response)) {
    for (const [name, value] of Object.entries(response.getHeaders())) {
      if (value !== undefined && !raw.hasHeader(name)) raw.setHeader(name, value);
    }
  }
  return raw;
}

function hasHeaders(value: unknown): value is { getHeaders(): OutgoingHttpHeaders } {
  return (
    typeof value === 'object' &&
    value !== null &&
    'getHeaders' in value &&
    typeof value.getHeaders === 'function'
  );
}

/**
 * A route parameter that is Node's request, on any adapter. Auth guards and middleware record
 * the user on the adapter's request; on Fastify that is not Node's, so its `user` is carried over
 * for `upload.owner` to read, as it would on Express.
 */
export const NodeRequest = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  const adapterRequest = context.switchToHttp().getRequest<unknown>();
  const request: AttachmentsRequest = nodeRequest(adapterRequest);
  if (request !== adapterRequest && request.user === undefined) {
    const { user } = adapterRequest as { user?: unknown };
    if (user !== undefined) request.user = user;
  }
  return request;
});

function unwrap<T>(value: unknown, type: abstract new (...args: never[]) => T, what: string): T {
  if (value instanceof type) return value;
  if (typeof value === 'object' && value !== null && 'raw' in value && value.raw instanceof type) {
    return value.raw;
  }
  throw new AttachmentConfigurationError(
    `The attachments routes need Node's HTTP ${what}; this HTTP adapter gives neither it nor an object holding it in \`raw\``,
  );
}
