import { IncomingMessage, ServerResponse } from 'node:http';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
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

/** A route parameter that is Node's request, on any adapter. */
export const NodeRequest = createParamDecorator((_data: unknown, context: ExecutionContext) =>
  nodeRequest(context.switchToHttp().getRequest<unknown>()),
);

function unwrap<T>(value: unknown, type: abstract new (...args: never[]) => T, what: string): T {
  if (value instanceof type) return value;
  if (typeof value === 'object' && value !== null && 'raw' in value && value.raw instanceof type) {
    return value.raw;
  }
  throw new AttachmentConfigurationError(
    `The attachments routes need Node's HTTP ${what}; this HTTP adapter gives neither it nor an object holding it in \`raw\``,
  );
}
