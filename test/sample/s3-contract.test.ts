import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { S3Client } from '@aws-sdk/client-s3';
import { type PresignedUpload } from '../../src/storage/authoring.js';
import { pdf, png } from '../support/fixtures.js';
import { REDIS_URL, waitFor } from '../support/harness.js';
import { startS3rver, type TestS3Server } from '../support/s3rver.js';
import { api, untilStored, upload } from './http.js';
import { keysUnder, s3Environment, startS3SampleApp } from './s3-sample.js';
import { LISTENING, SAMPLE_MAIN, type SampleApp } from './sample-app.js';
import { PLATFORMS } from '../support/platforms.js';

const MB = 1024 * 1024;
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

type Params = PresignedUpload & { key: string; token: string };

for (const platform of PLATFORMS) {
  describe(`the sample app with S3_BUCKET set: files in a bucket, uploads straight to it on ${platform}`, () => {
    let uploads: string;
    let s3: TestS3Server;
    let client: S3Client;
    let app: SampleApp;

    const keys = (prefix = '') => keysUnder(client, s3.bucket, prefix);

    async function params(query: string): Promise<Params> {
      const answer = await api(app.baseUrl, 'GET', `/attachments/s3/params?${query}`);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return answer.body as unknown as Params;
    }

    /** What the browser client does with a presigned POST: the fields, then the file. */
    async function postToBucket(upload: PresignedUpload, bytes: Buffer, filename: string) {
      const form = new FormData();
      for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
      form.append('file', new Blob([bytes]), filename);
      return fetch(upload.url, { method: 'POST', body: form });
    }

    async function bytesAt(url: string): Promise<Buffer> {
      const response = await fetch(url);
      assert.equal(response.status, 200, url);
      return Buffer.from(await response.arrayBuffer());
    }

    /** Deletes the photo and waits for its files to leave the bucket. */
    async function deleteAndEmpty(id: number) {
      const deleted = await fetch(`${app.baseUrl}/photos/${id}`, { method: 'DELETE' });
      assert.equal(deleted.status, 204);
      await waitFor(async () => (await keys()).length === 0, 'an empty bucket').catch(() => null);
      assert.deepEqual(await keys(), [], 'nothing left under cache/ or store/');
    }

    before(async () => {
      uploads = await mkdtemp(join(tmpdir(), 'sample-s3-'));
      s3 = await startS3rver({ bucket: 'sample-photos', cors: true });
      client = s3.client();
      app = await startS3SampleApp(uploads, s3, platform);
    });

    after(async () => {
      await app?.stop();
      await s3?.stop();
      await rm(uploads, { recursive: true, force: true });
    });

    it('says where the files are, and serves the page in S3 mode', async () => {
      const match = LISTENING.exec(app.output());
      assert.equal(match?.[2], `s3://sample-photos at ${s3.endpoint}`);

      const page = await fetch(`${app.baseUrl}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<input[^>]*\sdata-direct-upload="s3"[\s>]/);
      // The page may upload to the bucket and show its images, and reach nothing else.
      assert.equal(
        page.headers.get('content-security-policy'),
        "default-src 'self'; style-src 'self' 'unsafe-inline'; " +
          `connect-src 'self' ${s3.endpoint}; img-src 'self' ${s3.endpoint}`,
      );
      assert.deepEqual(await keys(), [], 'the sample wrote nothing to the bucket by starting');
    });

    it('presigns a POST into cache/ whose policy bounds the size at 10 MB', async () => {
      const upload = await params('filename=sea.png&type=image/png&entity=Photo&attachment=image');
      assert.equal(upload.method, 'POST');
      assert.equal(upload.url, `${s3.endpoint}/sample-photos/`);
      assert.match(upload.key, new RegExp(`^u1\\.[\\w-]+\\.[\\w-]{43}/${UUID}\\.png$`));
      assert.equal(upload.fields.key, `cache/${upload.key}`);
      assert.match(upload.token, /^v1\./);
      const policy = JSON.parse(Buffer.from(upload.fields.Policy!, 'base64').toString()) as {
        conditions: unknown[];
      };
      assert.deepEqual(policy.conditions.at(-1), ['content-length-range', 0, 10 * MB]);
      assert.deepEqual(await keys(), [], 'presigning stores nothing');
    });

    it('creates a photo from a direct upload; it moves from cache/ to store/ in the bucket, and goes on delete', async () => {
      const image = png(40, 30, 7);
      const upload = await params(
        'filename=sunset.png&type=image/png&entity=Photo&attachment=image',
      );
      const posted = await postToBucket(upload, image, 'sunset.png');
      assert.equal(posted.status, 204, await posted.clone().text());
      assert.deepEqual(await keys(), [`cache/${upload.key}`]);

      const created = await api(app.baseUrl, 'POST', '/photos', {
        title: 'Sunset',
        image: upload.token,
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const photo = created.body as {
        id: number;
        image: { state: string; url: string; metadata: Record<string, unknown> };
      };
      assert.equal(photo.image.state, 'cached');
      assert.deepEqual(
        [photo.image.metadata.mimeType, photo.image.metadata.width, photo.image.metadata.height],
        ['image/png', 40, 30],
        'the app measured the object the browser stored',
      );
      // The page loads images from the bucket itself, with presigned URLs.
      assert.ok(photo.image.url.startsWith(`${s3.endpoint}/sample-photos/cache/${upload.key}?`));
      assert.deepEqual(await bytesAt(photo.image.url), image);

      const stored = await untilStored(app.baseUrl, photo.id);
      const storedKey = new RegExp(`^store/photo/${photo.id}/image/${UUID}\\.png$`);
      const path = new URL(stored.url).pathname.replace('/sample-photos/', '');
      assert.match(path, storedKey);
      assert.deepEqual(await bytesAt(stored.url), image);

      // The cached object stays for the sample's cacheDeleteDelay (3 s), then goes.
      await waitFor(async () => (await keys('cache/')).length === 0, 'the cached object to go');
      assert.deepEqual(await keys(), [path]);

      await deleteAndEmpty(photo.id);
    });

    it('re-checks what the browser stored when the token is used, deleting what breaks the rules', async () => {
      // s3rver, like some S3-compatible servers, does not enforce the signed policy: the app must.
      const notAnImage = await params(
        'filename=holiday.png&type=image/png&entity=Photo&attachment=image',
      );
      assert.ok((await postToBucket(notAnImage, pdf(), 'holiday.png')).ok);
      const big = await params('filename=big.png&type=image/png&entity=Photo&attachment=image');
      const bigBytes = Buffer.concat([png(16, 16), Buffer.alloc(10 * MB)]);
      assert.ok((await postToBucket(big, bigBytes, 'big.png')).ok);
      assert.equal((await keys('cache/')).length, 2);

      const refusals = [
        [notAnImage.token, 415, 'file_type_not_allowed'],
        [big.token, 413, 'file_too_large'],
      ] as const;
      for (const [token, status, code] of refusals) {
        const answer = await api(app.baseUrl, 'POST', '/photos', { title: 'Bad', image: token });
        assert.equal(answer.status, status, JSON.stringify(answer.body));
        assert.equal(answer.body?.code, code);
      }
      assert.deepEqual(await keys(), [], 'both objects were deleted');
      assert.deepEqual((await api(app.baseUrl, 'GET', '/photos')).body, []);
    });

    it('still takes uploads through the app, streaming them into the bucket', async () => {
      const image = png(12, 8, 9);
      const uploaded = await upload(app.baseUrl, image, 'through-app.png');
      assert.equal(uploaded.status, 201, JSON.stringify(uploaded.body));
      const { token, file } = uploaded.body as { token: string; file: { id: string } };
      assert.deepEqual(await keys(), [`cache/${file.id}`]);
      const created = await api(app.baseUrl, 'POST', '/photos', { title: 'Via app', image: token });
      assert.equal(created.status, 201);
      const id = created.body?.id as number;
      assert.deepEqual(await bytesAt((await untilStored(app.baseUrl, id)).url), image);
      await deleteAndEmpty(id);
    });

    it('printed nothing but its "listening" line', () => {
      const [listening, ...rest] = app.output().trimEnd().split('\n');
      assert.match(String(listening), LISTENING);
      assert.deepEqual(rest, []);
    });
  });
}

describe('the sample app with S3 settings it cannot use', () => {
  let uploads: string;
  let s3: TestS3Server;

  before(async () => {
    uploads = await mkdtemp(join(tmpdir(), 'sample-s3-bad-'));
    s3 = await startS3rver({ bucket: 'sample-photos' });
  });
  after(async () => {
    await s3?.stop();
    await rm(uploads, { recursive: true, force: true });
  });

  async function failedStart(env: Record<string, string>) {
    const all = { ...process.env, ...s3Environment(s3), REDIS_URL, UPLOADS_DIR: uploads, ...env };
    const run = promisify(execFile)(process.execPath, [SAMPLE_MAIN], {
      env: all,
      timeout: 60_000,
    });
    const error = await run.then(
      () => assert.fail('the sample app started'),
      (failure: { code: number; stdout: string; stderr: string }) => failure,
    );
    assert.equal(error.code, 1);
    assert.equal(error.stdout, '');
    return error.stderr;
  }

  it('says in one line that the bucket is missing, and exits 1', async () => {
    const stderr = await failedStart({ S3_BUCKET: 'no-such-bucket' });
    assert.equal(
      stderr,
      `The S3 bucket "no-such-bucket" is not usable at ${s3.endpoint}: HTTP 404 NotFound. ` +
        'Check S3_BUCKET, S3_ENDPOINT and the AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY credentials.\n',
    );
  });

  it('refuses an S3_ENDPOINT that is not an http(s) URL, and a bad S3_FORCE_PATH_STYLE', async () => {
    assert.equal(
      await failedStart({ S3_ENDPOINT: 'localhost:9000' }),
      'S3_ENDPOINT must be an http:// or https:// URL; leave it unset for AWS.\n',
    );
    assert.equal(
      await failedStart({ S3_FORCE_PATH_STYLE: 'sometimes' }),
      'S3_FORCE_PATH_STYLE must be true or false.\n',
    );
  });
});
