import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdir, stat } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { waitFor } from './harness.js';

/** A PATCH request as the proxy forwarded it. */
export interface ForwardedPatch {
  path: string;
  /** The `Upload-Offset` the client sent: where it says its body starts. */
  offset: number;
  /** Body bytes forwarded to the server. */
  bodyBytes: number;
  /** The status the server answered, if it answered. */
  status?: number;
}

export interface DroppingProxy {
  /** `http://127.0.0.1:<port>`, to use instead of the app's base URL. */
  url: string;
  /** Every PATCH that went through, in order. */
  patches: ForwardedPatch[];
  /** Resolves once the connection was dropped. */
  dropped: Promise<void>;
  close(): Promise<void>;
}

const HEADERS_END = Buffer.from('\r\n\r\n');

/**
 * A TCP proxy in front of an HTTP server that, once, drops the connection in the middle of the
 * first PATCH body: after forwarding exactly `afterBytes` bytes of it, and once `beforeDrop`
 * says the server stored them (see `untilStaged`), both sockets are destroyed, as when a
 * network goes away mid-upload. Every other request, before and after,
 * goes through untouched. It reads just enough HTTP (request heads and `Content-Length`) to
 * know where bodies start and end, and the status lines of the answers to tell which PATCH got
 * which status.
 */
export async function startDroppingProxy(
  target: string,
  afterBytes: number,
  beforeDrop: () => Promise<void> = async () => {},
): Promise<DroppingProxy> {
  const { hostname, port } = new URL(target);
  const patches: ForwardedPatch[] = [];
  const sockets = new Set<Socket>();
  let armed = true;
  let markDropped!: () => void;
  const dropped = new Promise<void>((resolve) => (markDropped = resolve));

  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: hostname, port: Number(port) });
    sockets.add(client).add(upstream);
    const destroyBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', destroyBoth);
    upstream.on('error', destroyBoth);
    // Requests on this connection still waiting for their answer, in order (no pipelining).
    const awaiting: (ForwardedPatch | null)[] = [];
    upstream.on('data', (chunk: Buffer) => {
      for (const [, status] of chunk.toString('latin1').matchAll(/HTTP\/1\.1 (\d{3}) /g)) {
        const request = awaiting.shift();
        if (request) request.status = Number(status);
      }
      client.write(chunk);
    });

    let head = Buffer.alloc(0);
    let bodyLeft = 0;
    let current: ForwardedPatch | null = null;
    let cutting = false;
    // Set once the cut's bytes went through: the rest of what the client sends is dropped.
    let holding = false;

    const forwardBody = (chunk: Buffer): Buffer => {
      let take = Math.min(bodyLeft, chunk.length);
      if (cutting && current) take = Math.min(take, afterBytes - current.bodyBytes);
      if (take > 0) upstream.write(chunk.subarray(0, take));
      bodyLeft -= take;
      if (current) current.bodyBytes += take;
      if (cutting && current && current.bodyBytes >= afterBytes) {
        cutting = false;
        holding = true;
        // Cut only once the server holds what got through: a reset that reaches it while
        // those bytes still wait in its socket would discard them, and the resume would then
        // start from 0, or from wherever the server's reading had got to.
        void beforeDrop().finally(() => {
          destroyBoth();
          markDropped();
        });
        return Buffer.alloc(0);
      }
      return chunk.subarray(take);
    };

    client.on('data', (chunk: Buffer) => {
      if (holding) return;
      let rest = chunk;
      while (rest.length > 0 && !client.destroyed) {
        if (bodyLeft > 0) {
          rest = forwardBody(rest);
          continue;
        }
        head = Buffer.concat([head, rest]);
        const end = head.indexOf(HEADERS_END);
        if (end < 0) return;
        const headBytes = head.subarray(0, end + HEADERS_END.length);
        rest = head.subarray(end + HEADERS_END.length);
        head = Buffer.alloc(0);
        upstream.write(headBytes);
        const text = headBytes.toString('latin1');
        const [method = '', path = ''] = text.split(' ', 2);
        bodyLeft = Number(/\r\ncontent-length:\s*(\d+)/i.exec(text)?.[1] ?? 0);
        current = null;
        if (method === 'PATCH') {
          const offset = Number(/\r\nupload-offset:\s*(\d+)/i.exec(text)?.[1] ?? Number.NaN);
          current = { path, offset, bodyBytes: 0 };
          patches.push(current);
          cutting = armed;
          armed = false;
        }
        awaiting.push(current);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('The proxy has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    patches,
    dropped,
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/**
 * The PATCHes of an upload of `size` bytes cut after `cutAt` bytes of its first PATCH: that one
 * was never answered, the last resumed from the offset the server had (somewhere in the part
 * that got through) with only the rest of the file, and was answered 200. In between there may
 * be one PATCH the server refused with 409 without storing it: a copy of the cut request that
 * Chromium sends again on its own when a reused connection is reset, or one sent from an
 * offset read while the cut request was still being settled.
 */
export function assertResumedOnce(patches: ForwardedPatch[], cutAt: number, size: number): void {
  const seen = JSON.stringify(patches);
  const [first, ...later] = patches;
  const resumed = later.pop();
  assert.ok(first && resumed, `a cut PATCH and a resumed one: ${seen}`);
  assert.deepEqual([first.offset, first.bodyBytes, first.status], [0, cutAt, undefined], seen);
  assert.ok(later.length <= 1 && later.every((patch) => patch.status === 409), seen);
  assert.equal(resumed.status, 200, seen);
  assert.ok(resumed.offset > 0 && resumed.offset <= cutAt, `resumed at ${resumed.offset}: ${seen}`);
  assert.equal(resumed.bodyBytes, size - resumed.offset, `only the rest was sent: ${seen}`);
}

/**
 * For `startDroppingProxy`: resolves once the upload files tus keeps in `directory` (each next
 * to its `.json` record) hold `bytes` in all, so the cut comes after the server stored them.
 */
export function untilStaged(directory: string, bytes: number): () => Promise<void> {
  return async () => {
    await waitFor(async () => {
      const names = (await readdir(directory)).filter((name) => !name.endsWith('.json'));
      const sizes = await Promise.all(
        names.map((name) =>
          stat(join(directory, name)).then(
            (found) => found.size,
            () => 0,
          ),
        ),
      );
      return sizes.reduce((sum, size) => sum + size, 0) >= bytes;
    }, `the server to store the ${bytes} bytes that got through`);
  };
}
