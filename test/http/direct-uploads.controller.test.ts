import '../support/harness.js';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Repository } from 'typeorm';
import {
  FileTooLargeError,
  FileTypeNotAllowedError,
  MalformedImageError,
  type UploadedFile,
} from '../../src/index.js';
import { type PresignedUpload } from '../../src/storage/authoring.js';
import type { DirectUploadParams } from '../../src/http/direct-upload.service.js';
import { Dossier, Photo } from '../support/entities.js';
import { pdf, png } from '../support/fixtures.js';
import { listFiles, waitForIdle, type Harness } from '../support/harness.js';
import { useS3Storages, type CommandLog, type TestS3Server } from '../support/s3rver.js';
import { PLATFORMS } from '../support/platforms.js';
import { useHarness } from '../support/suite.js';

const MiB = 1024 * 1024;

for (const platform of PLATFORMS) {
  describe(`direct uploads to S3 (s3rver) through the /attachments/s3 routes on ${platform}`, () => {
    const s3Suite = useS3Storages();
    const { storages } = s3Suite;
    const suite = useHarness('postgres', [Photo, Dossier], { http: true, platform, storages });
    let s3: TestS3Server;
    let log: CommandLog;
    let harness: Harness;
    let photos: Repository<Photo>;
    before(() => {
      ({ server: s3, log } = s3Suite);
      harness = suite.harness;
      photos = suite.db.dataSource.getRepository(Photo);
    });

    const api = async (path: string, init?: RequestInit) => {
      const response = await fetch(`${harness.baseUrl}/attachments/s3${path}`, init);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const json = (method: string, body: unknown): RequestInit => ({
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

    async function presign(query: string) {
      const answer = await api(`/params?${query}`);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return answer.body as unknown as DirectUploadParams;
    }

    async function postTo(upload: PresignedUpload, bytes: Buffer) {
      const form = new FormData();
      for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
      form.append('file', new Blob([bytes]));
      return fetch(upload.url, { method: 'POST', body: form });
    }

    const report = { entity: 'Dossier', attachment: 'report' };

    async function attachAndPromote(token: string): Promise<UploadedFile> {
      const photo = photos.create({ title: 'direct' });
      await harness.attachments.attach(photo, 'image', token);
      await photos.save(photo);
      await waitForIdle(harness, suite.db.dataSource);
      return (await photos.findOneByOrFail({ id: photo.id })).image!;
    }

    it('presigns a POST whose policy pins the key and bounds the size', async () => {
      const upload = await presign('filename=sea.png&type=image/png&entity=Photo&attachment=image');
      assert.equal(upload.method, 'POST');
      assert.equal(upload.url, `${s3.endpoint}/${s3.bucket}/`);
      assert.match(upload.key, /^u1\.[\w-]+\.[\w-]{43}\/[0-9a-f-]{36}\.png$/, 'a signed id');
      const policy = JSON.parse(Buffer.from(upload.fields.Policy!, 'base64').toString()) as {
        expiration: string;
        conditions: unknown[];
      };
      assert.ok(Date.parse(policy.expiration) > Date.now());
      assert.deepEqual(policy.conditions, [
        { bucket: s3.bucket },
        { key: `cache/${upload.key}` },
        { 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256' },
        { 'X-Amz-Credential': upload.fields['X-Amz-Credential'] },
        { 'X-Amz-Date': upload.fields['X-Amz-Date'] },
        { 'Content-Type': 'image/png' },
        ['content-length-range', 0, MiB],
      ]);
      assert.match(upload.fields['X-Amz-Signature']!, /^[0-9a-f]{64}$/);

      const posted = await postTo(upload, png(9, 9));
      assert.ok(posted.ok, `POST upload answered ${posted.status}`);
      log.clear();
      const stored = await attachAndPromote(upload.token);
      assert.equal(stored.storage, 'store');
      assert.equal(stored.metadata.width, 9);
      assert.equal(log.count('CopyObjectCommand'), 1, 'promotion is a server-side copy');
      const bodyReads = log.inputs.filter(
        (input, index) =>
          log.names[index] === 'GetObjectCommand' && !(input as { Range?: string }).Range,
      );
      // A ranged head read sniffs the type; an image is then read once to its end, as no
      // server-side probe saw its bytes: it must be one whole image.
      assert.equal(bodyReads.length, 1, 'one whole-object GET, for the structure of the image');
    });

    it('presigns a PUT that fetch can use', async () => {
      const upload = await presign(
        'filename=p.png&type=image/png&method=PUT&entity=Photo&attachment=image',
      );
      assert.equal(upload.method, 'PUT');
      const put = await fetch(upload.url, {
        method: 'PUT',
        headers: upload.headers,
        body: png(7, 3),
      });
      assert.ok(put.ok, `PUT answered ${put.status}`);
      assert.equal((await attachAndPromote(upload.token)).metadata.height, 3);
    });

    it('re-checks what a direct upload stored, and deletes what breaks the limits', async () => {
      // s3rver, like some S3-compatible servers, enforces nothing that was signed.
      const big = await presign('filename=big.png&entity=Photo&attachment=image');
      assert.ok((await postTo(big, Buffer.concat([png(4, 4), Buffer.alloc(2 * MiB)]))).ok);
      await assert.rejects(
        harness.attachments.attach(new Photo(), 'image', big.token),
        FileTooLargeError,
      );
      const doc = await presign(
        'filename=doc.png&type=image/png&method=PUT&entity=Photo&attachment=image',
      );
      assert.ok((await fetch(doc.url, { method: 'PUT', headers: doc.headers, body: pdf() })).ok);
      await assert.rejects(
        harness.attachments.attach(new Photo(), 'image', doc.token),
        FileTypeNotAllowedError,
      );
      assert.deepEqual(await listFiles(storages.cache!), [], 'both objects were deleted');
    });

    it('runs the multipart flow, resumes after an interrupted part, and checks the result', async () => {
      const created = await api(
        '/multipart',
        json('POST', { ...report, filename: 'report.bin', type: 'application/octet-stream' }),
      );
      assert.equal(created.status, 200);
      const { uploadId, key } = created.body as { uploadId: string; key: string };
      const partUrl = async (n: number) =>
        (await api(`/multipart/${encodeURIComponent(uploadId)}/${n}?key=${key}`)).body
          .url as string;
      const first = Buffer.concat([pdf(), Buffer.alloc(5 * MiB, 1)]);
      const second = Buffer.alloc(1000, 2);
      const etag = async (n: number, bytes: Buffer) =>
        (await fetch(await partUrl(n), { method: 'PUT', body: bytes })).headers.get('etag')!;
      const firstTag = await etag(1, first);

      // The second part is cut off: the client aborts its request mid-way.
      const aborted = new AbortController();
      const slow = new ReadableStream({
        start(controller) {
          controller.enqueue(second.subarray(0, 100));
          aborted.abort();
        },
      });
      await fetch(await partUrl(2), {
        method: 'PUT',
        body: slow,
        signal: aborted.signal,
        duplex: 'half',
      } as RequestInit).catch(() => undefined);

      const listed = await api(`/multipart/${encodeURIComponent(uploadId)}?key=${key}`);
      const parts = listed.body as unknown as { PartNumber: number; ETag: string; Size: number }[];
      assert.deepEqual(
        parts.map(({ PartNumber, Size }) => ({ PartNumber, Size })),
        [{ PartNumber: 1, Size: first.length }],
      );
      const secondTag = await etag(2, second);

      const done = await api(
        `/multipart/${encodeURIComponent(uploadId)}/complete?key=${key}`,
        json('POST', {
          ...report,
          parts: [
            { PartNumber: 2, ETag: secondTag },
            { PartNumber: 1, ETag: firstTag },
          ],
        }),
      );
      assert.equal(done.status, 200, JSON.stringify(done.body));
      const file = done.body.file as UploadedFile;
      assert.equal(file.metadata.size, first.length + second.length);
      assert.equal(file.metadata.mimeType, 'application/pdf');
      assert.equal(typeof done.body.location, 'string');

      const dossier = suite.db.dataSource.getRepository(Dossier).create();
      await harness.attachments.attach(dossier, 'report', done.body.token as string);
      await suite.db.dataSource.getRepository(Dossier).save(dossier);
      await waitForIdle(harness, suite.db.dataSource);
      const saved = await suite.db.dataSource
        .getRepository(Dossier)
        .findOneByOrFail({ id: dossier.id });
      assert.equal(saved.report?.storage, 'store');
    });

    it('refuses, at completion, a multipart upload over the target limit and deletes it', async () => {
      const target = { filename: 'huge.png', entity: 'Photo', attachment: 'image' };
      const { uploadId, key } = (await api('/multipart', json('POST', target))).body as {
        uploadId: string;
        key: string;
      };
      const url = (await api(`/multipart/${encodeURIComponent(uploadId)}/1?key=${key}`)).body
        .url as string;
      const ETag = (
        await fetch(url, { method: 'PUT', body: Buffer.concat([png(2, 2), Buffer.alloc(2 * MiB)]) })
      ).headers.get('etag')!;
      const done = await api(
        `/multipart/${encodeURIComponent(uploadId)}/complete?key=${key}`,
        json('POST', { ...target, parts: [{ PartNumber: 1, ETag }] }),
      );
      assert.equal(done.status, 413);
      assert.deepEqual(await listFiles(storages.cache!), []);
    });

    it("reads Uppy's metadata[...] fields, and attaches by the signed key in either form", async () => {
      const upload = await presign(
        'filename=m.png&type=image/png&metadata[entity]=Photo&metadata[attachment]=image',
      );
      const policy = JSON.parse(Buffer.from(upload.fields.Policy!, 'base64').toString()) as {
        conditions: unknown[];
      };
      assert.deepEqual(policy.conditions.at(-1), ['content-length-range', 0, MiB]);
      assert.ok((await postTo(upload, png(5, 4))).ok);
      const stored = await attachAndPromote(upload.fields.key!);
      assert.equal(stored.metadata.filename, 'm.png');
      assert.match(stored.id, /^photo\/\d+\/image\/[0-9a-f-]{36}\.png$/, 'named by its basename');
      const bare = await presign('filename=n.png&type=image/png&entity=Photo&attachment=image');
      assert.ok((await postTo(bare, png(2, 6))).ok);
      assert.equal((await attachAndPromote(bare.key)).metadata.height, 6);
    });

    it('keeps what multipart create was told (filename, attachment) over the complete body', async () => {
      const created = await api(
        '/multipart',
        json('POST', {
          filename: 'big.png',
          type: 'image/png',
          metadata: { entity: 'Photo', attachment: 'image' },
        }),
      );
      const { uploadId, key } = created.body as { uploadId: string; key: string };
      assert.ok(key.startsWith('cache/u1.'), 'the object key, as Companion answers it');
      const partUrl = (await api(`/multipart/${encodeURIComponent(uploadId)}/1?key=${key}`)).body
        .url as string;
      const bytes = Buffer.concat([png(3, 3), Buffer.alloc(2 * MiB)]);
      const ETag = (await fetch(partUrl, { method: 'PUT', body: bytes })).headers.get('etag')!;
      const done = await api(
        `/multipart/${encodeURIComponent(uploadId)}/complete?key=${key}`,
        json('POST', {
          filename: 'other.pdf',
          entity: 'Dossier',
          attachment: 'report',
          parts: [{ PartNumber: 1, ETag }],
        }),
      );
      assert.equal(done.status, 413, 'held to Photo.image, as create said');
      assert.deepEqual(await listFiles(storages.cache!), []);

      const small = (
        await api(
          '/multipart',
          json('POST', { filename: 'small.png', entity: 'Photo', attachment: 'image' }),
        )
      ).body as {
        uploadId: string;
        key: string;
      };
      const url = (await api(`/multipart/${encodeURIComponent(small.uploadId)}/1?key=${small.key}`))
        .body.url as string;
      const tag = (await fetch(url, { method: 'PUT', body: png(4, 4) })).headers.get('etag')!;
      const finished = await api(
        `/multipart/${encodeURIComponent(small.uploadId)}/complete?key=${small.key}`,
        json('POST', { filename: 'renamed.png', parts: [{ PartNumber: 1, ETag: tag }] }),
      );
      assert.equal(finished.status, 200, JSON.stringify(finished.body));
      assert.equal(finished.body.key, small.key, 'complete answers the same key');
      assert.equal((finished.body.file as UploadedFile).metadata.filename, 'small.png');
      assert.equal((await attachAndPromote(small.key)).metadata.filename, 'small.png');
    });

    it('refuses the routes that name no attachment, with 400 attachment_required', async () => {
      const refusals = [
        await api('/params?filename=a.png&type=image/png'),
        await api('/params?filename=a.png&method=PUT'),
        await api('/multipart', json('POST', { filename: 'a.png' })),
      ];
      // Completion is held to what create was told, which always names one.
      for (const answer of refusals) {
        assert.equal(answer.status, 400, JSON.stringify(answer.body));
        assert.equal(answer.body.code, 'attachment_required');
        assert.match(String(answer.body.message), /entity=Photo&attachment=image/);
      }
      assert.deepEqual(await listFiles(storages.cache!), []);
    });

    it('refuses, at completion, an object that starts as an image but is not one, and deletes it', async () => {
      const target = { filename: 'page.png', entity: 'Photo', attachment: 'image' };
      const html = Buffer.from('<html><script>alert(1)</script></html>');
      for (const bytes of [
        Buffer.concat([png(4, 4).subarray(0, 33), html]), // a PNG header, then a page
        Buffer.concat([png(4, 4), html]), // a PNG, then a page
        Buffer.alloc(0),
      ]) {
        const { uploadId, key } = (await api('/multipart', json('POST', target))).body as {
          uploadId: string;
          key: string;
        };
        const url = (await api(`/multipart/${encodeURIComponent(uploadId)}/1?key=${key}`)).body
          .url as string;
        const ETag = (await fetch(url, { method: 'PUT', body: bytes })).headers.get('etag')!;
        const done = await api(
          `/multipart/${encodeURIComponent(uploadId)}/complete?key=${key}`,
          json('POST', { ...target, parts: [{ PartNumber: 1, ETag }] }),
        );
        assert.equal(done.status, 422, JSON.stringify(done.body));
        assert.equal(done.body.code, bytes.length ? 'malformed_image' : 'empty_file');
        assert.deepEqual(await listFiles(storages.cache!), [], 'the object was deleted');
      }
    });

    it('refuses, at attach(), a presigned upload that is not a whole image, and deletes it', async () => {
      const upload = await presign('filename=x.png&method=PUT&entity=Photo&attachment=image');
      const polyglot = Buffer.concat([png(4, 4), Buffer.from('<html></html>')]);
      assert.ok((await fetch(upload.url, { method: 'PUT', body: polyglot })).ok);
      await assert.rejects(
        harness.attachments.attach(new Photo(), 'image', upload.token),
        MalformedImageError,
      );
      assert.deepEqual(await listFiles(storages.cache!), []);
    });

    it('aborts on request, and refuses keys it did not hand out', async () => {
      const { uploadId, key } = (
        await api('/multipart', json('POST', { ...report, filename: 'x.png' }))
      ).body as { uploadId: string; key: string };
      assert.equal(
        (await api(`/multipart/${encodeURIComponent(uploadId)}?key=${key}`, { method: 'DELETE' }))
          .status,
        200,
      );
      const open = await s3.openUploads();
      assert.deepEqual(
        open.filter((upload) => upload.uploadId === uploadId),
        [],
        'aborted',
      );
      for (const bad of ['../store/x.png', 'store/photo/1/image/a.png', '']) {
        const answer = await api(
          `/multipart/${encodeURIComponent(uploadId)}/1?key=${encodeURIComponent(bad)}`,
        );
        assert.equal(answer.status, 400);
        assert.match(
          String(answer.body.message),
          /`key` must be the key the create request answered/,
        );
      }
      const part = await api(`/multipart/${encodeURIComponent(uploadId)}/10001?key=${key}`);
      assert.match(String(part.body.message), /Part numbers go from 1 to 10000/);
    });
  });
}
