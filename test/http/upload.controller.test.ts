import '../support/harness.js';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  AttachmentsService,
  TokenOwnerMismatchError,
  type UploadResponse,
} from '../../src/index.js';
import { verifyUploadToken } from '../../src/core/index.js';
import { Photo } from '../support/entities.js';
import { pdf, png } from '../support/fixtures.js';
import { filesOnDisk, SECRET, waitForIdle, type Harness } from '../support/harness.js';
import { multipart, multipartHead, rawRequest, type Part } from '../support/http-client.js';
import { PLATFORMS } from '../support/platforms.js';
import { useHarness } from '../support/suite.js';

const MiB = 1024 * 1024;

/** A multipart body streamed chunk by chunk; its file is `size` bytes of no known type. */
async function* streamed(head: Buffer, size: number, tail?: Buffer): AsyncGenerator<Buffer> {
  yield head;
  for (let sent = 0; sent < size; sent += 256 * 1024) yield Buffer.alloc(256 * 1024, 1);
  if (tail) yield tail;
}

for (const platform of PLATFORMS) {
  describe(`POST /attachments/upload on ${platform}`, () => {
    const suite = useHarness('postgres', [Photo], {
      http: true,
      platform,
      upload: {
        maxSize: 4 * MiB,
        // These tests are about the endpoint itself, for any file: they opt in to uploads that
        // name no attachment (upload-safe-defaults.test.ts covers the default refusal).
        unnamed: { allowedTypes: ['*/*'] },
        owner: (request) => request.headers['x-user']?.toString(),
      },
    });
    let harness: Harness;
    let endpoint: string;
    before(() => {
      harness = suite.harness;
      endpoint = `${harness.baseUrl}/attachments/upload`;
    });

    function post(parts: Part[], query = '', headers: Record<string, string> = {}) {
      const { body, contentType } = multipart(parts);
      return rawRequest(`${endpoint}${query}`, {
        headers: { 'content-type': contentType, 'content-length': body.length, ...headers },
        body,
      });
    }

    /** The server answers the next upload normally: a refused request broke nothing. */
    async function stillServing() {
      const answer = await post([{ name: 'file', filename: 'ok.png', data: png(3, 3) }]);
      assert.equal(answer?.status, 201);
      const { file } = answer!.json as unknown as UploadResponse;
      await harness.storages.cache!.delete(file.id);
    }

    async function refused(
      answer: Awaited<ReturnType<typeof post>>,
      status: number,
      message: RegExp,
    ) {
      assert.ok(answer, 'the server answered');
      assert.equal(answer.status, status, answer.body.toString());
      assert.equal(answer.json?.statusCode, status);
      assert.match(String(answer.json?.message), message);
      assert.deepEqual(
        await filesOnDisk(harness, 'cache'),
        [],
        'no file, partial or whole, is left',
      );
      await stillServing();
    }

    it('streams one file into the cache and answers what Uppy XHRUpload reads', async () => {
      const answer = await post(
        [{ name: 'file', filename: 'beach.png', contentType: 'text/plain', data: png(12, 7) }],
        '',
        { 'x-user': 'alice' },
      );
      assert.equal(answer?.status, 201);
      const { token, file, url } = answer!.json as unknown as UploadResponse;
      assert.equal(file.storage, 'cache');
      assert.match(file.id, /^[0-9a-f-]{36}\.png$/);
      assert.deepEqual(
        { ...file.metadata, sha256: undefined },
        {
          filename: 'beach.png',
          size: png(12, 7).length,
          mimeType: 'image/png',
          width: 12,
          height: 7,
          sha256: undefined,
        },
        'metadata comes from the bytes, not from the declared text/plain',
      );
      assert.equal(verifyUploadToken(token, SECRET).owner, 'alice');
      assert.equal(url, `/attachments/files/cache/${file.id}?filename=beach.png`);
      const served = await fetch(`${harness.baseUrl}${url}`);
      assert.deepEqual(Buffer.from(await served.arrayBuffer()), png(12, 7));

      // The token is bound to its uploader.
      const attachments = harness.app.get(AttachmentsService, { strict: false });
      await assert.rejects(
        attachments.attach(new Photo(), 'image', token, { owner: 'bob' }),
        TokenOwnerMismatchError,
      );
      await harness.storages.cache!.delete(file.id);
    });

    it("applies the named attachment's rules: type judged from the bytes", async () => {
      const pdfAsPng = [
        { name: 'file', filename: 'scan.png', contentType: 'image/png', data: pdf() },
      ];
      await refused(
        await post(pdfAsPng, '?entity=Photo&attachment=image'),
        415,
        /application\/pdf .*not allowed/,
      );
      // Named in form fields sent before the file, as a plain HTML form would.
      const fields = [
        { name: 'entity', data: 'Photo' },
        { name: 'attachment', data: 'image' },
      ];
      await refused(await post([...fields, ...pdfAsPng]), 415, /not allowed; allowed: image\/\*/);
      await refused(
        await post(
          [{ name: 'file', filename: 'a.png', data: png(2, 2) }],
          '?entity=Photo&attachment=nope',
        ),
        400,
        /Unknown attachment "Photo\.nope"/,
      );
    });

    it("names the cached file by the type measured on its bytes, not by the client's filename", async () => {
      const cases: { filename: string; data: Buffer; id: RegExp }[] = [
        { filename: 'invoice.html', data: png(5, 5), id: /^[0-9a-f-]{36}\.png$/ },
        { filename: 'photo.png', data: pdf(), id: /^[0-9a-f-]{36}\.pdf$/ },
        {
          filename: 'page.svg',
          data: Buffer.from('just some words\n'),
          id: /^[0-9a-f-]{36}\.txt$/,
        },
        // No type the bytes show, so no extension to claim one.
        { filename: 'run.exe.png', data: Buffer.from([0, 1, 2, 3, 0, 5]), id: /^[0-9a-f-]{36}$/ },
      ];
      for (const { filename, data, id } of cases) {
        const answer = await post([{ name: 'file', filename, data }]);
        assert.equal(answer?.status, 201, answer?.body.toString());
        const { file } = answer!.json as unknown as UploadResponse;
        assert.match(file.id, id, filename);
        assert.equal(file.metadata.filename, filename, 'the name the user gave is kept');
        await harness.storages.cache!.delete(file.id);
      }
    });

    it('cuts off a file over the limit while it streams: 413, nothing kept', async () => {
      const { head, tail, contentType } = multipartHead('huge.png');
      // Chunked, so the size is unknown until the bytes arrive; 1 MiB is Photo.image's limit.
      const answer = await rawRequest(`${endpoint}?entity=Photo&attachment=image`, {
        headers: { 'content-type': contentType, 'transfer-encoding': 'chunked' },
        body: streamed(head, 64 * MiB, tail),
      });
      await refused(answer, 413, /larger than the limit of 1048576 bytes/);
    });

    it('refuses a body announced as too large before reading it', async () => {
      const { head, contentType } = multipartHead('huge.png');
      const answer = await rawRequest(endpoint, {
        headers: { 'content-type': contentType, 'content-length': 5 * 1024 * MiB },
        body: streamed(head, 1 * MiB),
        // It sends far less than it announced: its connection can carry nothing after this.
        ownConnection: true,
      });
      await refused(answer, 413, /limit of 4194304 bytes/);
    });

    it('refuses malformed requests with a clear 400', async () => {
      const file = { name: 'file', filename: 'a.png', data: png(4, 4) };
      await refused(
        await post([{ name: 'title', data: 'no file here' }]),
        400,
        /No file in field "file"/,
      );
      await refused(await post([file, { ...file, filename: 'b.png' }]), 400, /exactly one file/);
      await refused(
        await post([{ ...file, name: 'upload' }]),
        400,
        /Unexpected file field "upload"/,
      );
      await refused(
        await rawRequest(endpoint, {
          headers: { 'content-type': 'application/json' },
          body: Buffer.from('{}'),
        }),
        400,
        /Expected a multipart\/form-data body/,
      );
      // A file sent bare: the library's 400 on Express; Fastify itself refuses a body type it has
      // no parser for, before the route runs.
      const bare = await rawRequest(endpoint, {
        headers: { 'content-type': 'application/octet-stream' },
        body: png(3, 3),
      });
      assert.equal(bare?.status, platform === 'express' ? 400 : 415, bare?.body.toString());
      assert.equal(bare?.json?.statusCode, bare?.status);
      await refused(
        await rawRequest(endpoint, {
          headers: { 'content-type': 'multipart/form-data; charset=utf-8' },
          body: Buffer.from('x'),
        }),
        400,
        /Unreadable multipart header/,
      );
      for (const filename of ['../../etc/passwd', 'dir\\\\evil.png']) {
        await refused(
          await post([{ ...file, filename }]),
          400,
          /must not contain line breaks or path separators/,
        );
      }
      // A bare CR inside a part header breaks the header itself.
      await refused(await post([{ ...file, filename: 'a\rb.png' }]), 400, /Malformed part header/);
      const encodedNewline = [
        `Content-Disposition: form-data; name="file"; filename*=UTF-8''a%0D%0Ab.png`,
      ];
      await refused(await post([{ ...file, rawHeaders: encodedNewline }]), 400, /line breaks/);
    });

    it('refuses ambiguous part headers with 400', async () => {
      const data = png(4, 4);
      const ambiguous = [
        [
          'Content-Disposition: form-data; name="file"; filename="a.png"',
          'Content-Disposition: form-data; name="file"; filename="b.html"',
        ],
        ['Content-Disposition: form-data; name="file"; filename="a.png"; filename="b.html"'],
        ['Content-Disposition: form-data; name="file"; name="other"; filename="a.png"'],
        ['Content-Disposition: form-data; name="file"; filename="a.png"; FILENAME="b.html"'],
        [
          `Content-Disposition: form-data; name="file"; filename*=UTF-8''a.png; filename*=UTF-8''b.html`,
        ],
        [
          'Content-Disposition: form-data; name="file"; filename="a.png"',
          'Content-Type: image/png',
          'content-type: text/html',
        ],
      ];
      for (const rawHeaders of ambiguous) {
        await refused(
          await post([{ name: 'file', rawHeaders, data }]),
          400,
          /(twice|more than once)/,
        );
      }
      // A field part is held to the same rule: which name it has must not be a guess.
      const field = ['Content-Disposition: form-data; name="entity"; name="Photo"'];
      await refused(
        await post([
          { name: 'entity', rawHeaders: field, data: 'Photo' },
          { name: 'file', filename: 'a.png', data },
        ]),
        400,
        /twice|more than once/,
      );
      // filename and filename* together are how RFC 7578 clients send a non-ASCII name: allowed.
      const both = [
        `Content-Disposition: form-data; name="file"; filename="cafe.png"; filename*=UTF-8''caf%C3%A9.png`,
      ];
      const answer = await post([{ name: 'file', rawHeaders: both, data }]);
      assert.equal(answer?.status, 201, answer?.body.toString());
      const { file } = answer!.json as unknown as UploadResponse;
      assert.equal(file.metadata.filename, 'café.png');
      await harness.storages.cache!.delete(file.id);
    });

    it('removes the partial file of a truncated body and answers 400', async () => {
      const { head, contentType } = multipartHead('cut.png');
      const answer = await rawRequest(endpoint, {
        headers: { 'content-type': contentType, 'transfer-encoding': 'chunked' },
        body: streamed(head, 2 * MiB), // no closing boundary: the body just ends
      });
      await refused(answer, 400, /Malformed multipart body: Unexpected end of form/);
    });

    it('removes the partial file when the client disconnects mid-upload', async () => {
      const { head, contentType } = multipartHead('gone.png');
      const answer = await rawRequest(endpoint, {
        headers: { 'content-type': contentType, 'transfer-encoding': 'chunked' },
        body: streamed(head, 2 * MiB),
        abortAfterBody: true,
      });
      assert.equal(answer, null, 'no answer on a cut connection');
      await waitForIdle(harness, suite.db.dataSource);
      const deadline = Date.now() + 10_000;
      while ((await filesOnDisk(harness, 'cache')).length > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      assert.deepEqual(await filesOnDisk(harness, 'cache'), []);
      await stillServing();
    });

    it('answers oversized headers with 431 and keeps serving', async () => {
      const answer = await rawRequest(endpoint, {
        headers: { 'x-padding': 'a'.repeat(40_000) },
        body: Buffer.alloc(0),
        // Fastify closes the connection after its 431 without saying so in the answer: a pooled
        // connection would be reused and reset.
        ownConnection: true,
      });
      assert.equal(answer?.status, 431);
      await stillServing();
    });
  });
}
