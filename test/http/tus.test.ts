import '../support/harness.js';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ExpiredTokenError,
  InvalidTokenError,
  TokenAlreadyUsedError,
  TokenOwnerMismatchError,
  type UploadedFile,
} from '../../src/index.js';
import { signUploadToken, verifyUploadToken } from '../../src/core/index.js';
import { SweepHandler } from '../../src/work/handlers/sweep.handler.js';
import { noisyPng } from '../sample/noisy-png.js';
import { assertResumedOnce, startDroppingProxy, untilStaged } from '../support/dropping-proxy.js';
import { Photo } from '../support/entities.js';
import { pdf } from '../support/fixtures.js';
import { listFiles, SECRET, waitForIdle, type Harness } from '../support/harness.js';
import { PLATFORMS, type HttpPlatform } from '../support/platforms.js';
import { useS3Storages } from '../support/s3rver.js';
import { useHarness } from '../support/suite.js';
import { tusRefusal, tusUpload } from '../support/tus-client.js';

const KiB = 1024;
const HOUR = 3600_000;
const sha256 = (data: Buffer | Uint8Array) => createHash('sha256').update(data).digest('hex');
const forPhoto = (filename: string) => ({ entity: 'Photo', attachment: 'image', filename });

/** Requests to the tus endpoint by hand, where a test needs exact headers. */
function tusRequest(
  url: string,
  method: string,
  headers: Record<string, string> = {},
  body?: Buffer,
) {
  return fetch(url, { method, headers: { 'Tus-Resumable': '1.0.0', ...headers }, body });
}

type CacheKind = 'filesystem' | 's3rver';

const RUNS: { platform: HttpPlatform; cache: CacheKind }[] = [
  ...PLATFORMS.map((platform) => ({ platform, cache: 'filesystem' as const })),
  ...PLATFORMS.map((platform) => ({ platform, cache: 's3rver' as const })),
];

for (const { platform, cache } of RUNS) {
  describe(`resumable uploads over tus on ${platform}, ${cache} cache`, () => {
    const staging = mkdtempSync(join(tmpdir(), 'attachments-tus-'));
    // Filled before the harness starts, by the hook this registers first.
    const s3 = cache === 's3rver' ? useS3Storages() : undefined;
    const suite = useHarness('postgres', [Photo], {
      http: true,
      platform,
      ...(s3 ? { storages: s3.storages } : {}),
      upload: {
        owner: (request) => request.headers['x-user']?.toString(),
        tus: { directory: staging },
      },
    });
    let harness: Harness;
    let endpoint: string;
    before(async () => {
      harness = suite.harness;
      endpoint = `${harness.baseUrl}/attachments/tus`;
    });
    after(() => rm(staging, { recursive: true, force: true }));

    const staged = () => readdir(staging);

    async function attachAndPromote(token: string, owner: string): Promise<UploadedFile> {
      const photos = suite.db.dataSource.getRepository(Photo);
      const photo = photos.create({ title: 'over tus' });
      await harness.attachments.attach(photo, 'image', token, { owner });
      await photos.save(photo);
      await waitForIdle(harness, suite.db.dataSource);
      const saved = await photos.findOneByOrFail({ id: photo.id });
      assert.equal(saved.image?.storage, 'store');
      return saved.image!;
    }

    async function storedBytes(file: UploadedFile): Promise<Buffer> {
      const chunks: Buffer[] = [];
      for await (const chunk of await harness.storages.store!.open(file.id))
        chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    }

    it('uploads with tus-js-client; the token attaches, and the stored bytes are the original', async () => {
      const image = noisyPng(120, 80);
      const { answer, tokenHeader, url } = await tusUpload(endpoint, image, {
        metadata: forPhoto('beach.png'),
        headers: { 'x-user': 'alice' },
      });
      assert.equal(tokenHeader, answer.token, 'the token is in the header and the body');
      assert.match(url, /\/attachments\/tus\/[0-9a-f]{32}$/);
      assert.equal(answer.file.storage, 'cache');
      assert.match(answer.file.id, /\.png$/);
      assert.equal(answer.file.metadata.mimeType, 'image/png');
      assert.equal(answer.file.metadata.size, image.length);
      assert.equal(answer.file.metadata.filename, 'beach.png');
      assert.equal(answer.file.metadata.sha256, sha256(image));
      assert.deepEqual([answer.file.metadata.width, answer.file.metadata.height], [120, 80]);
      assert.equal(verifyUploadToken(answer.token, SECRET).owner, 'alice');
      assert.deepEqual(await staged(), [], 'the staged upload is gone once cached');

      const stored = await attachAndPromote(answer.token, 'alice');
      assert.equal(stored.metadata.sha256, sha256(image));
      assert.equal(sha256(await storedBytes(stored)), sha256(image));
    });

    it('resumes from its offset after the connection drops mid-body', async () => {
      const image = noisyPng(300, 300);
      const proxy = await startDroppingProxy(
        harness.baseUrl,
        64 * KiB,
        untilStaged(staging, 64 * KiB),
      );
      try {
        const upload = tusUpload(`${proxy.url}/attachments/tus`, image, {
          metadata: forPhoto('cut.png'),
          headers: { 'x-user': 'alice' },
          retryDelays: [0, 0],
        });
        await proxy.dropped;
        const { answer } = await upload;
        assertResumedOnce(proxy.patches, 64 * KiB, image.length);

        assert.equal(answer.file.metadata.sha256, sha256(image));
        const stored = await attachAndPromote(answer.token, 'alice');
        assert.equal(sha256(await storedBytes(stored)), sha256(image));
        assert.deepEqual(await staged(), []);
      } finally {
        await proxy.close();
      }
    });

    // The rest holds whatever the cache: it is checked once, on Express and the filesystem.
    if (platform !== 'express' || cache !== 'filesystem') return;

    async function begin(size: number, owner: string, filename = 'partial.png'): Promise<string> {
      const metadata = Object.entries(forPhoto(filename))
        .map(([key, value]) => `${key} ${Buffer.from(value).toString('base64')}`)
        .join(',');
      const created = await tusRequest(endpoint, 'POST', {
        'Upload-Length': String(size),
        'Upload-Metadata': metadata,
        'x-user': owner,
      });
      assert.equal(created.status, 201, await created.clone().text());
      return new URL(created.headers.get('location')!, endpoint).href;
    }

    it('answers the token to a creation that carried the whole file (creation-with-upload)', async () => {
      const image = noisyPng(40, 40);
      const { answer, tokenHeader } = await tusUpload(endpoint, image, {
        metadata: forPhoto('at-once.png'),
        headers: { 'x-user': 'alice' },
        uploadDataDuringCreation: true,
      });
      assert.equal(tokenHeader, answer.token);
      assert.equal(answer.file.metadata.sha256, sha256(image));
      assert.deepEqual(await staged(), []);
      await harness.storages.cache!.delete(answer.file.id);
    });

    it('terminates an upload: DELETE leaves nothing', async () => {
      const image = noisyPng(64, 64);
      const url = await begin(image.length, 'alice');
      const patched = await tusRequest(
        url,
        'PATCH',
        {
          'Upload-Offset': '0',
          'Content-Type': 'application/offset+octet-stream',
          'x-user': 'alice',
        },
        image.subarray(0, 1000),
      );
      assert.equal(patched.status, 204);
      assert.ok((await staged()).length > 0);
      const deleted = await tusRequest(url, 'DELETE', { 'x-user': 'alice' });
      assert.equal(deleted.status, 204);
      assert.deepEqual(await staged(), []);
      assert.equal((await tusRequest(url, 'HEAD', { 'x-user': 'alice' })).status, 404);
      assert.deepEqual(await listFiles(harness.storages.cache!), []);
    });

    it('keeps an upload to its uploader: another cannot read, continue or end it', async () => {
      const image = noisyPng(64, 64);
      const url = await begin(image.length, 'alice');
      for (const [method, headers] of [
        ['HEAD', {}],
        ['PATCH', { 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' }],
        ['DELETE', {}],
      ] as const) {
        for (const user of [{ 'x-user': 'mallory' }, {}] as Record<string, string>[]) {
          const answer = await tusRequest(
            url,
            method,
            { ...headers, ...user },
            method === 'PATCH' ? image : undefined,
          );
          assert.equal(answer.status, 404, `${method} by ${JSON.stringify(user)}`);
        }
      }
      const head = await tusRequest(url, 'HEAD', { 'x-user': 'alice' });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('upload-offset'), '0', 'nothing was written by the others');
      assert.equal((await tusRequest(url, 'DELETE', { 'x-user': 'alice' })).status, 204);
    });

    it('refuses an Upload-Length over the attachment maxSize with 413 before any byte', async () => {
      const refused = await tusRefusal(endpoint, Buffer.alloc(1024 * KiB + 1), {
        metadata: forPhoto('big.png'),
      });
      assert.equal(refused.status, 413);
      assert.equal(refused.json?.code, 'file_too_large');
      assert.deepEqual(await staged(), [], 'no upload was even created');
    });

    it('refuses, at the end, a type the attachment does not allow with 415, leaving nothing', async () => {
      const refused = await tusRefusal(endpoint, pdf(), { metadata: forPhoto('fake.png') });
      assert.equal(refused.status, 415);
      assert.equal(refused.json?.code, 'file_type_not_allowed');
      assert.deepEqual(await staged(), []);
      assert.deepEqual(await listFiles(harness.storages.cache!), []);
    });

    it('answers 412 in plain text to a request without Tus-Resumable, as the README says', async () => {
      const answer = await fetch(endpoint, { method: 'POST', headers: { 'Upload-Length': '10' } });
      assert.equal(answer.status, 412);
      assert.match(answer.headers.get('content-type') ?? '', /^text\/plain/);
      assert.equal((await answer.text()).trim(), 'Tus-Resumable Required');
      const refused = await tusRefusal(endpoint, pdf(), { metadata: forPhoto('fake.png') });
      assert.equal(refused.status, 415, 'a hook refusal: JSON, but sent as text/plain by tus');
    });

    it('refuses a creation that names no declared attachment', async () => {
      const refused = await tusRefusal(endpoint, noisyPng(8, 8), {
        metadata: { entity: 'Photo', attachment: 'nope', filename: 'x.png' },
      });
      assert.equal(refused.status, 400);
      assert.equal(refused.json?.code, 'invalid_upload');
      assert.deepEqual(await staged(), []);
    });

    it('holds a deferred length to maxSize as the bytes arrive', async () => {
      const created = await tusRequest(endpoint, 'POST', {
        'Upload-Defer-Length': '1',
        'Upload-Metadata': `entity ${btoa('Photo')},attachment ${btoa('image')}`,
      });
      assert.equal(created.status, 201);
      const url = new URL(created.headers.get('location')!, endpoint).href;
      const tooLong = await tusRequest(
        url,
        'PATCH',
        {
          'Upload-Offset': '0',
          'Upload-Length': String(1024 * KiB + 1),
          'Content-Type': 'application/offset+octet-stream',
        },
        Buffer.alloc(10),
      );
      assert.equal(tooLong.status, 413);
      const over = await tusRequest(
        url,
        'PATCH',
        {
          'Upload-Offset': '0',
          'Content-Type': 'application/offset+octet-stream',
        },
        Buffer.alloc(1024 * KiB + 1),
      );
      assert.equal(over.status, 413);
      assert.equal(((await over.json()) as { code: string }).code, 'file_too_large');
      await tusRequest(url, 'DELETE');
    });

    it('refuses at attach a forged, expired, reused or another owner token from tus', async () => {
      const { answer } = await tusUpload(endpoint, noisyPng(16, 16), {
        metadata: forPhoto('token.png'),
        headers: { 'x-user': 'alice' },
      });
      const photos = suite.db.dataSource.getRepository(Photo);
      const attach = (token: string, owner: string) =>
        harness.attachments
          .attach(photos.create({ title: 't' }), 'image', token, { owner })
          .catch((error: unknown) => error);
      const [version, , mac] = answer.token.split('.') as [string, string, string];
      const forged = Buffer.from(
        JSON.stringify({ ...verifyUploadToken(answer.token, SECRET), owner: 'mallory' }),
      );
      assert.ok(
        (await attach(`${version}.${forged.toString('base64url')}.${mac}`, 'mallory')) instanceof
          InvalidTokenError,
      );
      const payload = verifyUploadToken(answer.token, SECRET);
      const expired = signUploadToken({ ...payload, expiresAt: Date.now() - 1 }, SECRET);
      assert.ok((await attach(expired, 'alice')) instanceof ExpiredTokenError);
      assert.ok((await attach(answer.token, 'mallory')) instanceof TokenOwnerMismatchError);

      const photo = photos.create({ title: 'first' });
      await harness.attachments.attach(photo, 'image', answer.token, { owner: 'alice' });
      await photos.save(photo);
      assert.ok((await attach(answer.token, 'alice')) instanceof TokenAlreadyUsedError);
      await waitForIdle(harness, suite.db.dataSource);
    });

    it('lets the sweep remove an upload abandoned past cacheTtl and keep a fresh one', async () => {
      const abandoned = await begin(5000, 'alice', 'abandoned.png');
      const fresh = await begin(5000, 'alice', 'fresh.png');
      // Begun 25 hours ago, past the cache TTL (24 h), as tus itself records it.
      const record = join(staging, `${new URL(abandoned).pathname.split('/').pop()}.json`);
      const info = JSON.parse(await readFile(record, 'utf8')) as { creation_date: string };
      info.creation_date = new Date(Date.now() - 25 * HOUR).toISOString();
      await writeFile(record, JSON.stringify(info));

      const sweep = harness.app.get(SweepHandler, { strict: false });
      assert.equal((await sweep.run(Date.now())).removedResumableUploads, 1);
      assert.equal((await tusRequest(abandoned, 'HEAD', { 'x-user': 'alice' })).status, 404);
      assert.equal((await tusRequest(fresh, 'HEAD', { 'x-user': 'alice' })).status, 200);
      assert.equal((await sweep.run(Date.now())).removedResumableUploads, 0);
      assert.equal((await tusRequest(fresh, 'DELETE', { 'x-user': 'alice' })).status, 204);
      assert.deepEqual(await staged(), []);
    });
  });
}
