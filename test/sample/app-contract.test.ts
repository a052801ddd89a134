import assert from 'node:assert/strict';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { Photo } from '../../sample/app/photo.entity.js';
import { attachmentEntities, type UploadedFile } from '../../src/index.js';
import { signUploadToken } from '../../src/core/index.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../support/databases.js';
import { pdf, png, streamedPng } from '../support/fixtures.js';
import { referencedFiles, waitFor } from '../support/harness.js';
import { PLATFORMS } from '../support/platforms.js';
import { freePort, RedisServer } from '../support/processes.js';
import { api, oversizedUpload, untilStored, upload } from './http.js';
import { filesUnder, LISTENING, startSampleApp, type SampleApp } from './sample-app.js';

const MB = 1024 * 1024;

for (const [platform, kind] of PLATFORMS.flatMap((platform) =>
  DATABASES.map((kind) => [platform, kind] as const),
)) {
  describe(`the sample app's HTTP contract on ${kind} and ${platform} (npm run sample)`, () => {
    let uploads: string;
    let database: TestDatabase | undefined;
    let dataSource: DataSource;
    let app: SampleApp;
    const images = { first: png(40, 30, 1), second: png(20, 10, 2), kept: png(8, 8, 3) };
    let first: { token: string; photoId: number; storedId: string };

    /** `storage:id` of every file in the app's folders, temporary ones included. */
    const onDisk = async () =>
      [
        ...(await filesUnder(join(uploads, 'cache'))).map((id) => `cache:${id}`),
        ...(await filesUnder(join(uploads, 'store'))).map((id) => `store:${id}`),
      ].sort();
    const exists = (storage: string, id: string) =>
      access(join(uploads, storage, id)).then(
        () => true,
        () => false,
      );
    const imageOf = async (id: number) =>
      (await dataSource.getRepository(Photo).findOneByOrFail({ id })).image as UploadedFile;

    async function uploadToken(data: Buffer, filename: string): Promise<string> {
      const answer = await upload(app.baseUrl, data, filename);
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      return answer.body.token as string;
    }

    before(async () => {
      uploads = await mkdtemp(join(tmpdir(), `sample-app-${kind}-`));
      const entities = [Photo, ...attachmentEntities];
      if (kind !== 'sqlite') database = await createTestDatabase(kind, entities);
      // MariaDB through TypeORM's `mysql` driver name, which the sample maps mysql:// to.
      const databaseUrl = database?.url?.replace(/^mariadb:/, 'mysql:');
      app = await startSampleApp({ uploads, databaseUrl, platform });
      dataSource =
        database?.dataSource ??
        (await new DataSource({
          type: 'better-sqlite3',
          database: join(uploads, 'sample.sqlite'),
          entities,
        }).initialize());
    });

    after(async () => {
      await app?.stop();
      if (!database && dataSource?.isInitialized) await dataSource.destroy();
      await database?.close();
      await rm(uploads, { recursive: true, force: true });
    });

    it('serves the page and the browser client', async () => {
      const page = await fetch(`${app.baseUrl}/`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      const html = await page.text();
      // Files go through the app: the input names no other destination, the page no other origin.
      assert.match(html, /<input[^>]*\sdata-direct-upload\s/);
      assert.doesNotMatch(html, /data-direct-upload=/);
      assert.equal(
        page.headers.get('content-security-policy'),
        "default-src 'self'; style-src 'self' 'unsafe-inline'",
      );
      const presign = await api(
        app.baseUrl,
        'GET',
        '/attachments/s3/params?filename=a.png&entity=Photo&attachment=image',
      );
      assert.equal(presign.status, 400);
      assert.match(String(presign.body?.message), /does not accept direct uploads/);
      const client = await fetch(`${app.baseUrl}/attachments/client.js`);
      assert.equal(client.status, 200);
      assert.match(client.headers.get('content-type') ?? '', /^text\/javascript/);
      assert.match(await client.text(), /export function wireDirectUploads/);
    });

    it('refuses an upload over 10 MB (413) and a non-image (415), keeping no byte', async () => {
      // A whole PNG, so that only its size is wrong with it.
      const big = Buffer.concat([...streamedPng(10 * MB + 1024)]);
      for (const chunked of [false, true]) {
        const answer = await oversizedUpload(app.baseUrl, big, { chunked });
        assert.equal(answer.status, 413, JSON.stringify(answer.body));
        assert.equal(answer.body.code, 'file_too_large');
        assert.deepEqual(await onDisk(), [], `after a ${chunked ? 'chunked' : 'declared'} body`);
      }
      const notAnImage = await upload(app.baseUrl, pdf(), 'holiday.png');
      assert.equal(notAnImage.status, 415);
      assert.equal(notAnImage.body.code, 'file_type_not_allowed');
      assert.deepEqual(await onDisk(), []);
    });

    it('creates a photo from a token; its image goes from cached to stored', async () => {
      const uploaded = await upload(app.baseUrl, images.first, 'sunset.png');
      assert.equal(uploaded.status, 201);
      const { token, url, file } = uploaded.body as {
        token: string;
        url: string;
        file: UploadedFile;
      };
      assert.match(url, /^\/attachments\/files\/cache\/[0-9a-f-]{36}\.png\?filename=sunset\.png$/);
      assert.deepEqual(
        [file.metadata.mimeType, file.metadata.width, file.metadata.height],
        ['image/png', 40, 30],
      );

      const created = await api(app.baseUrl, 'POST', '/photos', { title: 'Sunset', image: token });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const photo = created.body as { id: number; title: string; image: Record<string, unknown> };
      assert.equal(photo.title, 'Sunset');
      assert.equal(photo.image.state, 'cached');
      const cached = await fetch(app.baseUrl + (photo.image.url as string));
      assert.equal(cached.status, 200);
      assert.deepEqual(Buffer.from(await cached.arrayBuffer()), images.first);

      const stored = await untilStored(app.baseUrl, photo.id);
      assert.match(
        stored.url,
        /^\/attachments\/files\/store\/photo\/\d+\/image\/[0-9a-f-]{36}\.png/,
      );
      const served = await fetch(app.baseUrl + stored.url);
      assert.equal(served.headers.get('content-type'), 'image/png');
      assert.deepEqual(Buffer.from(await served.arrayBuffer()), images.first);
      const image = await imageOf(photo.id);
      assert.equal(image.storage, 'store');
      assert.ok(await exists('store', image.id));
      const listed = await api(app.baseUrl, 'GET', '/photos');
      assert.deepEqual(listed.body, [{ id: photo.id, title: 'Sunset', image: stored }]);
      first = { token, photoId: photo.id, storedId: image.id };
    });

    it('answers 409 for a used token, 400 for forged tokens and bad bodies', async () => {
      const reused = await api(app.baseUrl, 'POST', '/photos', {
        title: 'Again',
        image: first.token,
      });
      assert.equal(reused.status, 409);
      assert.equal(reused.body?.code, 'token_already_used');

      const expiresAt = Date.now() + 3600_000;
      const forgeries = [
        signUploadToken({ storage: 'cache', id: 'x.png', expiresAt }, 'not-the-secret-'.repeat(3)),
        first.token.replace(/\.[^.]+\./, `.${Buffer.from('{"x":1}').toString('base64url')}.`),
        'not-a-token',
      ];
      for (const image of forgeries) {
        const answer = await api(app.baseUrl, 'POST', '/photos', { title: 'Forged', image });
        assert.equal(answer.status, 400, image);
        assert.equal(answer.body?.code, 'invalid_token');
      }

      const badBodies = [{}, [], { title: '   ' }, { title: 7 }, { title: 'Fine', image: 42 }];
      for (const body of badBodies) {
        const answer = await api(app.baseUrl, 'POST', '/photos', body);
        assert.equal(answer.status, 400, JSON.stringify(body));
        assert.equal(answer.body?.statusCode, 400);
      }
      for (const body of [{ title: '' }, { image: {} }]) {
        const answer = await api(app.baseUrl, 'PATCH', `/photos/${first.photoId}`, body);
        assert.equal(answer.status, 400, JSON.stringify(body));
      }
      const listed = await api(app.baseUrl, 'GET', '/photos');
      assert.deepEqual(
        (listed.body as unknown as { title: string }[]).map((photo) => photo.title),
        ['Sunset'],
      );
    });

    it('answers 404 as JSON for unknown photos', async () => {
      const requests = [
        ['GET', '/photos/999999'],
        ['GET', '/photos/abc'],
        ['PATCH', '/photos/999999'],
        ['DELETE', '/photos/999999'],
        ['DELETE', '/photos/0'],
      ];
      for (const [method, path] of requests) {
        const answer = await api(app.baseUrl, method!, path!, method === 'PATCH' ? {} : undefined);
        assert.equal(answer.status, 404, `${method} ${path}`);
        assert.equal(answer.body?.statusCode, 404);
      }
    });

    it('replaces the image with PATCH; the old stored file is deleted', async () => {
      const token = await uploadToken(images.second, 'sunrise.png');
      const patched = await api(app.baseUrl, 'PATCH', `/photos/${first.photoId}`, {
        title: 'Sunrise',
        image: token,
      });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      const photo = patched.body as { title: string; image: { state: string; metadata: object } };
      assert.equal(photo.title, 'Sunrise');
      assert.equal(photo.image.state, 'cached');
      assert.deepEqual(
        [
          (photo.image.metadata as { filename: string }).filename,
          (photo.image.metadata as { width: number }).width,
        ],
        ['sunrise.png', 20],
      );

      const stored = await untilStored(app.baseUrl, first.photoId);
      const served = await fetch(app.baseUrl + stored.url);
      assert.deepEqual(Buffer.from(await served.arrayBuffer()), images.second);
      const image = await imageOf(first.photoId);
      assert.notEqual(image.id, first.storedId);
      assert.ok(await exists('store', image.id));
      await waitFor(async () => !(await exists('store', first.storedId)), 'the old file to go');
      first.storedId = image.id;
    });

    it('deletes a photo (204); its files go', async () => {
      const deleted = await fetch(`${app.baseUrl}/photos/${first.photoId}`, { method: 'DELETE' });
      assert.equal(deleted.status, 204);
      assert.equal(await deleted.text(), '');
      assert.equal((await api(app.baseUrl, 'GET', `/photos/${first.photoId}`)).status, 404);
      await waitFor(async () => !(await exists('store', first.storedId)), 'the file to go');
    });

    it('keeps photos with and without an image, and no file nobody references', async () => {
      const plain = await api(app.baseUrl, 'POST', '/photos', { title: 'No image yet' });
      assert.equal(plain.status, 201);
      assert.equal(plain.body?.image, null);
      const token = await uploadToken(images.kept, 'kept.png');
      const kept = await api(app.baseUrl, 'POST', '/photos', { title: 'Kept', image: token });
      assert.equal(kept.status, 201);
      await untilStored(app.baseUrl, kept.body?.id as number);

      const referenced = () =>
        referencedFiles(dataSource, [{ entity: Photo, properties: ['image'] }]);
      // Cached copies of promoted files stay for the sample's cacheDeleteDelay.
      await waitFor(
        async () => JSON.stringify(await onDisk()) === JSON.stringify(await referenced()),
        'the folders to hold exactly the referenced files',
      ).catch(() => undefined);
      const expected = await referenced();
      assert.equal(expected.length, 1);
      assert.match(expected[0]!, /^store:photo\/\d+\/image\//);
      assert.deepEqual(await onDisk(), expected);
      // Nothing failed, not even once: no error or retry warning was logged.
      const [listening, ...rest] = app.output().trimEnd().split('\n');
      const match = LISTENING.exec(String(listening));
      assert.ok(match, String(listening));
      assert.equal(match[2], undefined, 'no "(files in ...)" without S3_BUCKET');
      assert.deepEqual(rest, []);
    });
  });
}

for (const platform of PLATFORMS) {
  describe(`the sample app without Redis on ${platform}`, () => {
    it('starts, says so in one line, takes photos, and promotes them once Redis is up', async () => {
      const uploads = await mkdtemp(join(tmpdir(), 'sample-app-no-redis-'));
      const port = await freePort();
      const app = await startSampleApp({
        uploads,
        platform,
        env: { REDIS_URL: `redis://127.0.0.1:${port}` },
      });
      let redis: RedisServer | undefined;
      try {
        const sent = await upload(app.baseUrl, png(12, 12, 4), 'offline.png');
        assert.equal(sent.status, 201, JSON.stringify(sent.body));
        const created = await api(app.baseUrl, 'POST', '/photos', {
          title: 'saved while Redis is down',
          image: sent.body.token,
        });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        const id = created.body!.id as number;
        assert.equal((created.body!.image as { state: string }).state, 'cached');
        const warnings = app
          .output()
          .split('\n')
          .filter((line) => /Redis/.test(line));
        assert.equal(warnings.length, 1, app.output());
        assert.match(warnings[0]!, new RegExp(`Redis at 127\\.0\\.0\\.1:${port} is unreachable`));

        redis = new RedisServer(port);
        await redis.start();
        await waitFor(async () => {
          const { body } = await api(app.baseUrl, 'GET', `/photos/${id}`);
          return (body?.image as { state: string } | null)?.state === 'stored';
        }, 'the photo to be stored once Redis is up');
      } finally {
        await app.stop();
        await redis?.kill();
        await rm(uploads, { recursive: true, force: true });
      }
    });
  });
}
