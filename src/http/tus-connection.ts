import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DrainBounds } from '../config/index.js';
import { directResponse } from './node-http.js';
import { drainRefusedBody } from './refused-body.js';

/**
 * Makes `@tus/server`'s refusals readable by every client still sending its body, as the other
 * routes' are. Left alone, tus loses them two ways: it gives up a body it refuses by cancelling
 * the web stream it reads the request through, which destroys Node's request and so the
 * socket; and it answers such a request with `Connection: close`, after which Node closes the
 * socket while bytes still arrive. Either way the client's TCP stack meets a reset, and Node's
 * `fetch` reports `fetch failed` instead of the 413.
 *
 * So, for this one request: a destroy asked for while the client is still connected reads and
 * throws away the rest of the body instead, within `upload.drain` (past its bounds the socket is
 * destroyed, as before); and a refusal (4xx, 5xx) sent before the body ended goes out without
 * `Connection: close`, its body drained meanwhile.
 */
export function keepRefusalsReadable(
  request: IncomingMessage,
  response: ServerResponse,
  bounds: DrainBounds,
): void {
  const destroy = request.destroy.bind(request);
  request.destroy = (error?: Error) => {
    if (request.socket.destroyed || request.complete) return destroy(error);
    drainRefusedBody(request, bounds);
    return request;
  };
  const writeHead = response.writeHead.bind(response) as (...args: unknown[]) => ServerResponse;
  const replaced: (...args: unknown[]) => ServerResponse = (...args) => {
    const status = args[0];
    if (typeof status !== 'number' || status < 400 || request.complete) return writeHead(...args);
    drainRefusedBody(request, bounds);
    return writeHead(...args.map(withoutConnectionHeader));
  };
  response.writeHead = replaced as ServerResponse['writeHead'];
}

/** Headers as `writeHead` takes them (an object, or raw `[name, value, ...]`), minus `Connection`. */
function withoutConnectionHeader(argument: unknown): unknown {
  const isConnection = (name: unknown) =>
    typeof name === 'string' && name.toLowerCase() === 'connection';
  if (Array.isArray(argument)) {
    if (argument.every((item) => Array.isArray(item))) {
      return argument.filter((pair: unknown[]) => !isConnection(pair[0]));
    }
    const kept: unknown[] = [];
    for (let index = 0; index + 1 < argument.length; index += 2) {
      if (!isConnection(argument[index])) kept.push(argument[index], argument[index + 1]);
    }
    return kept;
  }
  if (typeof argument === 'object' && argument !== null) {
    return Object.fromEntries(Object.entries(argument).filter(([name]) => !isConnection(name)));
  }
  return argument;
}

/**
 * Node's response for tus to answer on. Fastify is told it no longer owns the reply (it would
 * otherwise wait to send one of its own); the headers set through it are carried over first.
 */
export function handedOver(reply: unknown): ServerResponse {
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
