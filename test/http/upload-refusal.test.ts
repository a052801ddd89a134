import '../support/harness.js';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { before, describe, it } from 'node:test';
import type { UploadResponse } from '../../src/index.js';
import { Photo } from '../support/entities.js';
import { RefusingGuard } from '../support/refusing-guard.js';
import { fetchUpload, type FetchUpload } from '../support/fetch-upload-process.js';
import { pdf, png } from '../support/fixtures.js';
import { filesOnDisk, type Harness } from '../support/harness.js';
import { multipart, multipartHead } from '../support/http-client.js';
import { PLATFORMS } from '../support/platforms.js';
import { useHarness } from '../support/suite.js';

const MiB = 1024 * 1024;

type Body = Omit<FetchUpload, 'url' | 'contentLength'>;

/** The start of a file of no known type (an image would end before the filler that follows). */
const NO_TYPE = Buffer.from('bytes of no known type ');

/**
 * A one-file form whose file opens with `first` and goes on for `filler` more bytes; `trailing`
 * bytes follow the form's end, which the parser reads past the point where the file is judged.
 */
function oneFile(first: Buffer, filler: number, trailing = 0): Body {
  const { head, tail, contentType } = multipartHead('big.png');
  const bytes = (chunk: Buffer) => chunk.toString('base64');
  return { contentType, body: [bytes(head), bytes(first), filler, bytes(tail), trailing] };
}

for (const platform of PLATFORMS) {
  describe(`refusals of POST /attachments/upload, read by fetch, on ${platform}`, () => {
    const suite = useHarness('sqlite', [Photo], {
      http: true,
      platform,
      worker: false,
      // Uploads that name no attachment are held to the module-wide maxSize once opted in.
      upload: { maxSize: 4 * MiB, unnamed: { allowedTypes: ['*/*'] } },
      extras: { controller: { guards: [RefusingGuard] } },
    });
    let harness: Harness;
    let endpoint: string;
    before(() => {
      harness = suite.harness;
      endpoint = `${harness.baseUrl}/attachments/upload`;
    });

    /** fetch read the library's JSON refusal, nothing was kept, and the next upload works. */
    async function refused(
      upload: Omit<FetchUpload, 'url'>,
      query: string,
      status: number,
      message: RegExp,
    ) {
      const outcome = await fetchUpload({ ...upload, url: `${endpoint}${query}` });
      assert.ok('status' in outcome, `fetch read no answer: ${JSON.stringify(outcome)}`);
      assert.equal(outcome.status, status, JSON.stringify(outcome.body));
      assert.equal(outcome.body.statusCode, status);
      assert.match(String(outcome.body.message), message);
      assert.deepEqual(await filesOnDisk(harness, 'cache'), [], 'no partial file is left');
      const { body, contentType } = multipart([
        { name: 'file', filename: 'ok.png', data: png(3, 3) },
      ]);
      const next = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body,
      });
      assert.equal(next.status, 201, 'the server keeps serving');
      const { file } = (await next.json()) as UploadResponse;
      await harness.storages.cache!.delete(file.id);
    }

    it("answers 413 to a stream over the attachment's maxSize", async () => {
      await refused(
        { ...oneFile(NO_TYPE, 48 * MiB), contentLength: false },
        '?entity=Photo&attachment=image',
        413,
        /larger than the limit of 1048576 bytes/,
      );
    });

    it('answers 413 to a stream over the module-wide maxSize, sent without Content-Length', async () => {
      await refused(
        { ...oneFile(NO_TYPE, 48 * MiB), contentLength: false },
        '',
        413,
        /limit of 4194304 bytes/,
      );
    });

    it('answers 413 before reading a body whose Content-Length is over the module-wide maxSize', async () => {
      await refused(
        { ...oneFile(NO_TYPE, 48 * MiB), contentLength: true },
        '',
        413,
        /limit of 4194304 bytes/,
      );
    });

    it('answers 415 to a file of a refused type with more of the body still coming', async () => {
      await refused(
        { ...oneFile(pdf(), 0, 48 * MiB), contentLength: false },
        '?entity=Photo&attachment=image',
        415,
        /application\/pdf .*not allowed/,
      );
    });

    it("answers a guard's 403 to an upload whose body it never read", async () => {
      await refused(
        { ...oneFile(NO_TYPE, 48 * MiB), contentLength: false, headers: { 'x-refuse': 'yes' } },
        '',
        403,
        /Not you/,
      );
    });

    it('answers 400 to a second file part with more of the body still coming', async () => {
      const { head, contentType } = multipartHead('a.png');
      const delimiter = head.toString('latin1').split('\r\n')[0]!;
      const second = Buffer.from(
        `\r\n${delimiter}\r\nContent-Disposition: form-data; name="file"; filename="b.png"\r\n\r\n`,
      );
      await refused(
        {
          contentType,
          body: [...[head, png(4, 4), second].map((chunk) => chunk.toString('base64')), 48 * MiB],
          contentLength: false,
        },
        '',
        400,
        /exactly one file/,
      );
    });
  });
}

interface CutOff {
  /** Bytes of the body the server took before the connection ended. */
  written: number;
  /** What the server sent back. */
  received: string;
}

/**
 * Announces a body of `declared` bytes (over the module's maxSize, so it is refused before a
 * byte is read) and sends it with `send`, until the connection ends. Resolves when it does.
 */
function sendUntilCut(
  baseUrl: string,
  declared: number,
  send: (write: (chunk: Buffer) => Promise<void>) => Promise<void>,
): Promise<CutOff> {
  const { host, port } = new URL(baseUrl);
  const { contentType } = multipartHead('endless.png');
  return new Promise((resolve) => {
    const socket = connect({ host: host.split(':')[0], port: Number(port) });
    const outcome: CutOff = { written: 0, received: '' };
    socket.on('data', (data: Buffer) => (outcome.received += data.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(outcome));
    const write = (chunk: Buffer) =>
      new Promise<void>((done, fail) => {
        if (socket.destroyed) return fail(new Error('closed'));
        socket.write(chunk, (error) => {
          if (error) return fail(error);
          outcome.written += chunk.length;
          done();
        });
      });
    const head =
      `POST /attachments/upload HTTP/1.1\r\nHost: ${host}\r\n` +
      `Content-Type: ${contentType}\r\nContent-Length: ${declared}\r\n\r\n`;
    socket.once('connect', () => {
      void write(Buffer.from(head))
        .then(() => send(write))
        .then(
          () => socket.end(),
          () => undefined, // the server closed the connection: what the test waits for
        );
    });
  });
}

const GiB = 1024 * MiB;

for (const platform of PLATFORMS) {
  describe(`a refused client that keeps sending, on ${platform}`, () => {
    const bytes = useHarness('sqlite', [Photo], {
      http: true,
      platform,
      worker: false,
      upload: { maxSize: 4 * MiB, drain: { maxBytes: 2 * MiB, timeout: 300_000 } },
    });
    const time = useHarness('sqlite', [Photo], {
      http: true,
      platform,
      worker: false,
      upload: { maxSize: 4 * MiB, drain: { maxBytes: GiB, timeout: 300 } },
    });

    it('is answered, then cut off once it sent drain.maxBytes more', async () => {
      const chunk = Buffer.alloc(64 * 1024, 1);
      const cut = await sendUntilCut(bytes.harness.baseUrl, GiB, async (write) => {
        for (let sent = 0; sent < GiB; sent += chunk.length) await write(chunk);
      });
      assert.match(cut.received, /^HTTP\/1\.1 413 /);
      // What the socket buffers on both sides hold comes on top of the 2 MiB read.
      assert.ok(cut.written < 64 * MiB, `the server took ${cut.written} bytes before closing`);
    });

    it('is answered, then cut off drain.timeout after the refusal, however slowly it sends', async () => {
      const cut = await sendUntilCut(time.harness.baseUrl, GiB, async (write) => {
        // A byte at a time, so that the connection is never idle long enough for Node's own
        // keep-alive timeout to close it: only the drain's bound can.
        for (let sent = 0; sent < GiB; sent++) {
          await write(Buffer.from('x'));
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      });
      assert.match(cut.received, /^HTTP\/1\.1 413 /);
      assert.ok(cut.written < GiB);
    });
  });
}
