import assert from 'node:assert/strict';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, it } from 'node:test';
import type { ArgumentsHost } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import {
  AttachmentConfigurationError,
  AttachmentErrorFilter,
  FileTooLargeError,
} from '../../src/index.js';
import { directResponse, nodeRequest, nodeResponse } from '../../src/http/node-http.js';

function nodePair() {
  const request = new IncomingMessage(new Socket());
  return { request, response: new ServerResponse(request) };
}

describe("Node's request and response under any HTTP adapter", () => {
  it("takes Express's objects as they are, and Fastify's from their `raw`", () => {
    const { request, response } = nodePair();
    assert.equal(nodeRequest(request), request);
    assert.equal(nodeResponse(response), response);
    assert.equal(nodeRequest({ raw: request, headers: {} }), request);
    assert.equal(nodeResponse({ raw: response, sent: false }), response);
  });

  it("answers written to Node's response carry what was set on Fastify's reply, not over it", () => {
    const { response } = nodePair();
    response.setHeader('Content-Type', 'image/png');
    const reply = {
      raw: response,
      getHeaders: () => ({
        'x-frame-options': 'DENY',
        'content-type': 'text/html',
        gone: undefined,
      }),
    };
    assert.equal(directResponse(reply), response);
    assert.deepEqual(
      { ...response.getHeaders() },
      {
        'content-type': 'image/png',
        'x-frame-options': 'DENY',
      },
    );
  });

  it('refuses anything else with a configuration error', () => {
    const { request, response } = nodePair();
    for (const other of [undefined, null, {}, { raw: {} }, response]) {
      assert.throws(() => nodeRequest(other), AttachmentConfigurationError);
    }
    assert.throws(() => nodeResponse({ raw: request }), AttachmentConfigurationError);
  });

  it('lets the error filter answer through the adapter, given wrapped objects', () => {
    const { request, response } = nodePair();
    const calls: unknown[][] = [];
    const reply = { raw: response };
    const adapter = {
      setHeader: (...args: unknown[]) => calls.push(['setHeader', ...args]),
      reply: (...args: unknown[]) => calls.push(['reply', ...args]),
    };
    const filter = new AttachmentErrorFilter({
      httpAdapter: adapter,
    } as unknown as HttpAdapterHost);
    const host = {
      switchToHttp: () => ({ getRequest: () => ({ raw: request }), getResponse: () => reply }),
    } as unknown as ArgumentsHost;
    // The request's body was never read to its end: it is read on, so the client reads the
    // answer, and the connection is not closed under it.
    filter.catch(new FileTooLargeError(10), host);
    assert.equal(request.readableFlowing, true, 'the rest of the body is being drained');
    assert.deepEqual(calls, [
      [
        'reply',
        reply,
        {
          statusCode: 413,
          code: 'file_too_large',
          message: new FileTooLargeError(10).message,
        },
        413,
      ],
    ]);
  });
});
