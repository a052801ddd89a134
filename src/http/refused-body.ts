import type { IncomingMessage } from 'node:http';
import type { DrainBounds } from '../config/index.js';

/**
 * Reads and throws away what is left of a refused request's body, so that a client still
 * sending gets to read the refusal. A server that closes its socket while bytes still arrive
 * makes its TCP stack answer them with a reset, and a client that meets the reset while it
 * writes (Node's `fetch`) reports the failed write instead of the answer it was sent.
 *
 * Nothing is kept. Once the body ends, the connection serves the next request as usual. Past
 * `maxBytes` more bytes, or `timeout` milliseconds, the socket is destroyed: a client that goes
 * on sending is cut off rather than swallowed for ever.
 *
 * It must start before the answer is sent: Node reads an unread body to its end, without bound,
 * once the answer is finished, unless something already reads it.
 */
export function drainRefusedBody(request: IncomingMessage, bounds: DrainBounds): void {
  if (request.complete || request.destroyed) return;
  const socket = request.socket;
  let drained = 0;
  const stop = () => {
    clearTimeout(timer);
    request.off('data', count);
  };
  const cutOff = () => {
    stop();
    socket.destroy();
  };
  const count = (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > bounds.maxBytes) cutOff();
  };
  // Unref'd: a refused client must not keep a shutting-down process alive.
  const timer = setTimeout(cutOff, bounds.timeout).unref();
  request.on('data', count);
  request.once('end', stop);
  request.once('close', stop);
  request.resume();
}
