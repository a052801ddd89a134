import '../support/harness.js';
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import {
  ExpiredTokenError,
  InvalidTokenError,
  TokenAlreadyUsedError,
  TokenOwnerMismatchError,
} from '../../src/index.js';
import { noisyPng } from '../sample/noisy-png.js';
import { listFiles } from '../support/harness.js';
import { PLATFORMS } from '../support/platforms.js';
import { sha256, useBrowser, useUppySuite, type UppyUpload } from '../support/uppy-app.js';

/**
 * What README tells users to pass to `.use(XHRUpload, ...)`. XHRUpload retries every failed
 * request three times by default, a refusal too; AwsS3's rule is better: never retry a 4xx
 * but 429.
 */
const options = { endpoint: '/attachments/upload' };
const functions = {
  shouldRetry: '(xhr) => xhr.status < 400 || xhr.status >= 500 || xhr.status === 429',
};
const forImage = { entity: 'Shot', attachment: 'image' };

function upload(name: string, type: string, bytes: Buffer): UppyUpload {
  return { plugin: 'XHRUpload', options, functions, meta: forImage, name, type, bytes };
}

describe('Uppy 6 XHRUpload in Chromium, through POST /attachments/upload', () => {
  const browser = useBrowser();

  for (const platform of PLATFORMS) {
    describe(`on ${platform}`, () => {
      const suite = useUppySuite(platform, browser);

      async function tokenOf(sent: UppyUpload): Promise<string> {
        const outcome = await suite.upload(sent);
        assert.ok(outcome.ok, `upload-error: ${outcome.error} ${JSON.stringify(outcome.answers)}`);
        assert.deepEqual(
          outcome.answers.map((answer) => answer.status),
          [201],
        );
        assert.equal(outcome.uploadURL, outcome.body!.url, 'Uppy reads `url` as the upload URL');
        return outcome.body!.token as string;
      }

      it('the token in the JSON answer is attached, stored with the same bytes', async () => {
        const image = noisyPng(300, 200);
        const stored = await suite.attachAndStore(
          'image',
          await tokenOf(upload('x.png', 'image/png', image)),
        );
        assert.equal(stored.storage, 'store');
        assert.equal(stored.metadata.filename, 'x.png');
        assert.equal(await suite.sha256Of(stored), sha256(image));
      });

      if (platform !== 'express') return;

      it('an oversized or wrong-type file is refused (413, 415) with nothing left in the cache', async () => {
        const cases = [
          { sent: upload('big.png', 'image/png', noisyPng(900, 800)), status: 413 },
          {
            sent: upload('notes.png', 'image/png', Buffer.from('plain text\n'.repeat(99))),
            status: 415,
          },
        ];
        for (const { sent, status } of cases) {
          const cached = await listFiles(suite.storages.cache!);
          const outcome = await suite.upload(sent);
          assert.equal(outcome.ok, false, 'Uppy reports an upload-error');
          assert.deepEqual(
            outcome.answers.map((answer) => answer.status),
            [status],
          );
          assert.deepEqual(await listFiles(suite.storages.cache!), cached);
        }
      });

      it('a forged, an expired, another uploader\u2019s and a reused token are refused at attach', async () => {
        const token = await tokenOf(upload('y.png', 'image/png', noisyPng(50, 50)));
        const attach = (source: string, owner = 'alice') =>
          suite.harness.attachments.attach(suite.shots.create(), 'image', source, { owner });
        const [version, body, mac] = token.split('.') as [string, string, string];
        const forged = [version, body, `${mac[0] === 'A' ? 'B' : 'A'}${mac.slice(1)}`].join('.');
        await assert.rejects(attach(forged), InvalidTokenError);
        mock.timers.enable({ apis: ['Date'], now: Date.now() + 7 * 60 * 60 * 1000 });
        try {
          await assert.rejects(attach(token), ExpiredTokenError, 'after tokenTtl (6 h)');
        } finally {
          mock.timers.reset();
        }
        await assert.rejects(attach(token, 'bob'), TokenOwnerMismatchError);
        assert.equal((await suite.attachAndStore('image', token)).storage, 'store');
        await assert.rejects(attach(token), TokenAlreadyUsedError);
      });
    });
  }
});
