import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { waitFor } from '../support/harness.js';

export interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown> | null;
}

/** A JSON request to the sample's API. */
export async function api(baseUrl: string, method: string, path: string, body?: unknown) {
  const response = await fetch(baseUrl + path, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const answer: Answer = {
    status: response.status,
    headers: response.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : null,
  };
  return answer;
}

/** The photo's image once the sample's API reports it stored. */
export async function untilStored(baseUrl: string, id: number) {
  return waitFor(async () => {
    const { body } = await api(baseUrl, 'GET', `/photos/${id}`);
    const image = body?.image as { state: string; url: string } | null;
    return image?.state === 'stored' ? image : undefined;
  }, `photo ${id} to be stored`);
}

/** Uploads bytes to the library's endpoint, for the Photo entity's `image` attachment. */
export async function upload(baseUrl: string, data: Buffer, filename: string) {
  const form = new FormData();
  form.append('file', new Blob([data]), filename);
  const response = await fetch(`${baseUrl}/attachments/upload?entity=Photo&attachment=image`, {
    method: 'POST',
    body: form,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/**
 * An upload too large to be read: the server answers while the body is still being sent, and
 * this client then stops sending and drops the connection, as a browser does. `chunked` leaves
 * out Content-Length, so the server can only find out by counting the bytes.
 */
export function oversizedUpload(
  baseUrl: string,
  data: Buffer,
  options: { chunked: boolean },
): Promise<{ status: number; body: Record<string, unknown> }> {
  const boundary = `----sample${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n` +
      'Content-Type: image/png\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const headers: Record<string, string | number> = {
    'Content-Type': `multipart/form-data; boundary=${boundary}`,
    ...(options.chunked
      ? { 'Transfer-Encoding': 'chunked' }
      : { 'Content-Length': head.length + data.length + tail.length }),
  };
  const url = `${baseUrl}/attachments/upload?entity=Photo&attachment=image`;
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method: 'POST', headers });
    let answered = false;
    outgoing.on('response', (response) => {
      answered = true;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        // Answered before it sent all its body, the client stops: the connection is dropped.
        if (!outgoing.writableEnded) outgoing.destroy();
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        resolve({ status: response.statusCode ?? 0, body });
      });
    });
    // Writing into a connection the server closed after answering fails; only an error before
    // any answer is one.
    outgoing.on('error', (error) => {
      if (!answered) setTimeout(() => !answered && reject(error), 500);
    });
    const all = Buffer.concat([head, data, tail]);
    void (async () => {
      for (let offset = 0; offset < all.length; offset += 65536) {
        if (answered || outgoing.destroyed) return;
        if (!outgoing.write(all.subarray(offset, offset + 65536))) {
          await new Promise((done) => outgoing.once('drain', done).once('close', done));
        }
      }
      if (!answered && !outgoing.destroyed) outgoing.end();
    })().catch(() => undefined);
  });
}
