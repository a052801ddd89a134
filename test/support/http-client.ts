import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { randomBytes } from 'node:crypto';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body parsed as JSON, when it is JSON. */
  json: Record<string, unknown> | undefined;
}

export interface RawRequest {
  method?: string;
  headers?: Record<string, string | number>;
  /** Sent in order; an async iterable lets a test stream more than it could hold. */
  body?: Buffer | Iterable<Buffer> | AsyncIterable<Buffer>;
  /** Destroy the socket after sending the body instead of finishing the request. */
  abortAfterBody?: boolean;
  /** Send on a connection of its own, never reused: for answers after which the server closes it. */
  ownConnection?: boolean;
}

/**
 * An HTTP request with full control over what goes on the wire: malformed bodies, truncated
 * uploads, aborted connections. Resolves with the answer, or null when the connection was cut
 * before one arrived.
 */
export function rawRequest(url: string, options: RawRequest = {}): Promise<RawResponse | null> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, {
      method: options.method ?? 'POST',
      headers: options.headers,
      ...(options.ownConnection ? { agent: false } : {}),
    });
    let answered = false;
    let sent = false;
    request.on('response', (response) => {
      answered = true;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', () => undefined);
      response.on('end', () => {
        const body = Buffer.concat(chunks);
        let json: Record<string, unknown> | undefined;
        try {
          json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
        } catch {
          json = undefined;
        }
        // A client that stopped sending once answered leaves its request unfinished: its
        // connection can carry nothing more.
        if (!sent) request.destroy();
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body, json });
      });
    });
    // The server may answer (413) and close while the body is still being sent.
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (['ECONNRESET', 'EPIPE'].includes(error.code ?? '')) {
        if (!answered) setTimeout(() => !answered && resolve(null), 200);
      } else reject(error);
    });
    void send();

    async function send() {
      const body = options.body;
      try {
        if (Buffer.isBuffer(body)) await write(body);
        else if (body) for await (const chunk of body) await write(chunk);
      } catch {
        return; // the server stopped reading: its answer, if any, is on the way
      }
      if (options.abortAfterBody) {
        setTimeout(() => request.destroy(), 50);
        setTimeout(() => resolve(null), 100);
      } else {
        sent = true;
        request.end();
      }
    }

    function write(chunk: Buffer): Promise<void> {
      if (request.destroyed || answered) return Promise.reject(new Error('stopped'));
      return new Promise((done, fail) => {
        request.write(chunk, (error) => (error ? fail(error) : done()));
      });
    }
  });
}

export interface Part {
  name: string;
  filename?: string;
  contentType?: string;
  /** Raw header lines, to send what a well-behaved client would not. */
  rawHeaders?: string[];
  data: Buffer | string;
}

/** A multipart/form-data body and its Content-Type header. */
export function multipart(parts: Part[]): { body: Buffer; contentType: string } {
  const boundary = `----test${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const headers = part.rawHeaders ?? [
      `Content-Disposition: form-data; name="${part.name}"${part.filename === undefined ? '' : `; filename="${part.filename}"`}`,
      ...(part.contentType ? [`Content-Type: ${part.contentType}`] : []),
    ];
    chunks.push(Buffer.from(`--${boundary}\r\n${headers.join('\r\n')}\r\n\r\n`));
    chunks.push(Buffer.isBuffer(part.data) ? part.data : Buffer.from(part.data));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** The opening of a multipart body with one file part, for streaming the file after it. */
export function multipartHead(filename: string): {
  head: Buffer;
  tail: Buffer;
  contentType: string;
} {
  const boundary = `----test${randomBytes(8).toString('hex')}`;
  return {
    head: Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
    ),
    tail: Buffer.from(`\r\n--${boundary}--\r\n`),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}

export interface HungUpResponse {
  status: number;
  /** Bytes of the body read before the connection was closed. */
  received: number;
  /** Whether the whole body had arrived. */
  complete: boolean;
}

/**
 * A GET on a connection of its own that reads `limit` bytes of the body (all of it when
 * omitted) and then destroys the socket, as a browser does when a video is cancelled or a tab
 * closed. Also resolves when the server cuts the connection first.
 */
export function readThenHangUp(url: string, limit = Infinity): Promise<HungUpResponse> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { agent: false });
    request.on('error', reject);
    request.on('response', (response) => {
      let received = 0;
      const hangUp = () => {
        request.destroy();
        resolve({ status: response.statusCode ?? 0, received, complete: response.complete });
      };
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received >= limit) hangUp();
      });
      response.on('error', () => undefined);
      response.on('end', hangUp);
      response.on('close', hangUp);
    });
    request.end();
  });
}
