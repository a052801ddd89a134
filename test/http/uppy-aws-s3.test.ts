import '../support/harness.js';
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import {
  attachmentErrorStatus,
  ExpiredTokenError,
  FileTooLargeError,
  FileTypeNotAllowedError,
  InvalidTokenError,
  TokenAlreadyUsedError,
  TokenOwnerMismatchError,
  type AttachmentError,
} from '../../src/index.js';
import { noisyPng } from '../sample/noisy-png.js';
import { listFiles } from '../support/harness.js';
import { PLATFORMS } from '../support/platforms.js';
import { sha256, useBrowser, useUppySuite, type UppyUpload } from '../support/uppy-app.js';

const MiB = 1024 * 1024;
/** What README tells users to pass to `.use(AwsS3, ...)`, with the routes under `/attachments`. */
const single = { companionEndpoint: '/attachments', shouldUseMultipart: false };
const multipart = { companionEndpoint: '/attachments', shouldUseMultipart: true };
const forImage = { entity: 'Shot', attachment: 'image' };
const forPoster = { entity: 'Shot', attachment: 'poster' };

function png(options: Record<string, unknown>, meta: Record<string, string>, bytes: Buffer) {
  return { plugin: 'AwsS3', options, meta, name: 'sea.png', type: 'image/png', bytes } as const;
}

/** A key as Uppy reports it, with one character of its signature changed. */
function forge(key: string): string {
  const at = key.indexOf('/', key.indexOf('u1.')) - 10;
  return key.slice(0, at) + (key[at] === 'A' ? 'B' : 'A') + key.slice(at + 1);
}

describe('Uppy 6 AwsS3 in Chromium, through the /attachments/s3 routes', () => {
  const browser = useBrowser();

  for (const platform of PLATFORMS) {
    const everyCase = platform === 'express';
    describe(`on ${platform}`, () => {
      const suite = useUppySuite(platform, browser);

      async function uploaded(upload: UppyUpload) {
        const outcome = await suite.upload(upload);
        assert.ok(outcome.ok, `upload-error: ${outcome.error} ${JSON.stringify(outcome.answers)}`);
        const key = outcome.body!.key as string;
        assert.match(key, /^cache\/u1\.[\w-]+\.[\w-]{43}\/[0-9a-f-]{36}\.png$/);
        return { ...outcome, key };
      }

      it('single request: the key Uppy keeps is attached, stored with the same bytes', async () => {
        const image = noisyPng(400, 300);
        const outcome = await uploaded(png(single, forImage, image));
        assert.equal(
          outcome.body!.location,
          `${suite.s3.endpoint}/${suite.s3.bucket}/${outcome.key}`,
        );
        assert.equal(outcome.uploadURL, outcome.body!.location);
        const params = outcome.answers.filter((answer) =>
          answer.path.startsWith('/attachments/s3/params'),
        );
        assert.equal(params.length, 1);
        assert.match(params[0]!.path, /metadata%5Bentity%5D=Shot/, 'Uppy names the attachment');
        const stored = await suite.attachAndStore('image', outcome.key);
        assert.equal(stored.storage, 'store');
        assert.match(stored.id, /^shot\/\d+\/image\/[0-9a-f-]{36}\.png$/);
        assert.equal(stored.metadata.filename, 'sea.png');
        assert.equal(stored.metadata.width, 400);
        assert.equal(await suite.sha256Of(stored), sha256(image));
      });

      it('multipart, in three 5 MiB parts: the key Uppy keeps is attached, stored with the same bytes', async () => {
        const image = noisyPng(2000, 1800); // about 10.3 MiB
        assert.ok(image.length > 2 * 5 * MiB);
        const outcome = await uploaded(png(multipart, forPoster, image));
        const signed = outcome.answers.filter((a) => /\/multipart\/[^/?]+\/\d+\?/.test(a.path));
        assert.equal(signed.length, 3, 'three parts');
        assert.ok(outcome.answers.every((answer) => answer.status < 300));
        const stored = await suite.attachAndStore('poster', outcome.key);
        assert.equal(stored.storage, 'store');
        assert.equal(stored.metadata.filename, 'sea.png', 'the name create was told');
        assert.equal(stored.metadata.size, image.length);
        assert.equal(await suite.sha256Of(stored), sha256(image));
        assert.deepEqual(await suite.s3.openUploads(), []);
      });

      if (!everyCase) return;

      async function assertRefusedAtAttach(
        key: string,
        error: new (...args: never[]) => AttachmentError,
        status: number,
      ) {
        const refusal = await suite.harness.attachments
          .attach(suite.shots.create(), 'image', key, { owner: 'alice' })
          .then(
            () => assert.fail('attached'),
            (caught: unknown) => caught,
          );
        assert.ok(refusal instanceof error, String(refusal));
        assert.equal(attachmentErrorStatus(refusal), status);
        const id = key.slice('cache/'.length);
        assert.ok(!(await listFiles(suite.storages.cache!)).includes(id), 'deleted from the cache');
      }

      it('single request: an oversized or wrong-type file reaches s3rver, and attach refuses it (413, 415) and deletes it', async () => {
        // s3rver enforces no POST policy: real S3 would refuse the oversized POST itself.
        const big = await uploaded(png(single, forImage, noisyPng(900, 800)));
        await assertRefusedAtAttach(big.key, FileTooLargeError, 413);
        const text = Buffer.from('not an image at all\n'.repeat(50));
        const wrong = await uploaded({ ...png(single, forImage, text) });
        await assertRefusedAtAttach(wrong.key, FileTypeNotAllowedError, 415);
      });

      it('multipart: an oversized or wrong-type file is refused at completion (413, 415) and deleted', async () => {
        const cases = [
          { bytes: noisyPng(900, 800), status: 413 },
          { bytes: Buffer.from('not an image at all\n'.repeat(50)), status: 415 },
        ];
        for (const { bytes, status } of cases) {
          const cached = await listFiles(suite.storages.cache!);
          const outcome = await suite.upload(png(multipart, forImage, bytes));
          assert.equal(outcome.ok, false, 'Uppy reports an upload-error');
          const completion = outcome.answers.at(-1)!;
          assert.match(completion.path, /\/complete\?/);
          assert.equal(completion.status, status);
          assert.deepEqual(await listFiles(suite.storages.cache!), cached, 'nothing left');
          assert.deepEqual(await suite.s3.openUploads(), []);
        }
      });

      it('multipart: only the uploader who started an upload can complete it (403)', async () => {
        const base = `${suite.harness.baseUrl}/attachments/s3`;
        const as = (user: string, init: RequestInit = {}) => ({
          ...init,
          headers: { cookie: `user=${user}`, 'content-type': 'application/json' },
        });
        const started = (await (
          await fetch(
            `${base}/multipart`,
            as('alice', {
              method: 'POST',
              body: '{"filename":"a.png","entity":"Shot","attachment":"image"}',
            }),
          )
        ).json()) as { uploadId: string; key: string };
        const part = `${base}/multipart/${started.uploadId}/1?key=${encodeURIComponent(started.key)}`;
        const { url } = (await (await fetch(part, as('alice'))).json()) as { url: string };
        const ETag = (await fetch(url, { method: 'PUT', body: noisyPng(20, 20) })).headers.get(
          'etag',
        );
        const complete = `${base}/multipart/${started.uploadId}/complete?key=${encodeURIComponent(started.key)}`;
        const body = JSON.stringify({ parts: [{ PartNumber: 1, ETag }] });
        const refused = await fetch(complete, as('bob', { method: 'POST', body }));
        assert.equal(refused.status, 403);
        assert.equal(((await refused.json()) as { code: string }).code, 'token_owner_mismatch');
        assert.equal((await fetch(complete, as('alice', { method: 'POST', body }))).status, 200);
      });

      for (const [path, options] of [
        ['single request', single],
        ['multipart', multipart],
      ] as const) {
        it(`${path}: a forged, an expired, another uploader's and a reused key are refused at attach`, async () => {
          const { key } = await uploaded(png(options, forImage, noisyPng(60, 40)));
          const attach = (source: string, owner = 'alice') =>
            suite.harness.attachments.attach(suite.shots.create(), 'image', source, { owner });
          await assert.rejects(attach(forge(key)), InvalidTokenError);
          mock.timers.enable({ apis: ['Date'], now: Date.now() + 7 * 60 * 60 * 1000 });
          try {
            await assert.rejects(attach(key), ExpiredTokenError, 'after tokenTtl (6 h)');
          } finally {
            mock.timers.reset();
          }
          await assert.rejects(attach(key, 'bob'), TokenOwnerMismatchError);
          await assert.rejects(
            suite.harness.attachments.attach(suite.shots.create(), 'image', key),
            TokenOwnerMismatchError,
            'no uploader given',
          );
          assert.equal((await suite.attachAndStore('image', key)).storage, 'store');
          await assert.rejects(attach(key), TokenAlreadyUsedError);
        });
      }
    });
  }
});
