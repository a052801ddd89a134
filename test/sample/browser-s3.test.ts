import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Browser, ConsoleMessage, Page, Request } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { waitFor } from '../support/harness.js';
import { startS3rver, type TestS3Server } from '../support/s3rver.js';
import { api } from './http.js';
import { noisyPng } from './noisy-png.js';
import { keysUnder, startS3SampleApp } from './s3-sample.js';
import type { SampleApp } from './sample-app.js';
import { openSamplePage, progressSoFar, savedWithToken } from './sample-page.js';
import { PLATFORMS } from '../support/platforms.js';

// The callbacks given to page.evaluate() run in Chromium; the tests compile without the DOM
// library, so the little they use is declared (as in browser.test.ts).
interface InPageElement {
  complete: boolean;
  naturalWidth: number;
}
declare const document: {
  querySelectorAll(selector: string): { length: number };
};
declare const File: new (parts: unknown[], name: string, options: { type: string }) => Blob;

const MB = 1024 * 1024;
const CLIENT_URL = '/attachments/client.js';

interface Sent {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** The body as Chromium reports it: text only, never the bytes of a file. */
  body: Buffer | null;
}

for (const platform of PLATFORMS) {
  describe(`the sample page in Chromium, in S3 mode (uploads straight to the bucket) on ${platform}`, () => {
    let uploads: string;
    let s3: TestS3Server;
    let client: S3Client;
    let app: SampleApp;
    let browser: Browser;
    let page: Page;
    const pageErrors: Error[] = [];
    const consoleErrors: string[] = [];
    /** Every request the page sent, with its body. */
    const sent: Sent[] = [];

    const keys = (prefix = '') => keysUnder(client, s3.bucket, prefix);
    const toApp = () => sent.filter((request) => request.url.startsWith(app.baseUrl));
    const toBucket = () => sent.filter((request) => request.url.startsWith(s3.endpoint));

    async function bucketEmptied() {
      await waitFor(async () => (await keys()).length === 0, 'an empty bucket').catch(() => null);
      assert.deepEqual(await keys(), []);
    }

    before(async () => {
      uploads = await mkdtemp(join(tmpdir(), 'sample-browser-s3-'));
      s3 = await startS3rver({ bucket: 'sample-photos', cors: true });
      client = s3.client();
      app = await startS3SampleApp(uploads, s3, platform);
      browser = await launchBrowser();
      page = await browser.newPage();
      page.on('pageerror', (error) => pageErrors.push(error));
      // A Content-Security-Policy or CORS refusal shows only as a console error.
      page.on('console', (message: ConsoleMessage) => {
        if (message.type() === 'error') consoleErrors.push(message.text());
      });
      page.on('request', (request: Request) => {
        sent.push({
          method: request.method(),
          url: request.url(),
          headers: request.headers(),
          body: request.postDataBuffer(),
        });
      });
      await openSamplePage(page, app.baseUrl);
    });

    after(async () => {
      await browser?.close();
      await app?.stop();
      await s3?.stop();
      await rm(uploads, { recursive: true, force: true });
      assert.deepEqual(pageErrors, []);
    });

    it('serves the file input in S3 mode', async () => {
      const mode = await page.$eval(
        '[data-testid="file"]',
        (input) => (input as unknown as { dataset: { directUpload: string } }).dataset.directUpload,
      );
      assert.equal(mode, 's3');
    });

    it('uploads a multi-megabyte PNG to the bucket with progress, never through the app; it is stored, shown and deleted', async () => {
      const image = noisyPng(1100, 1000);
      assert.ok(image.length > 3 * MB && image.length <= 10 * MB, `${image.length} bytes`);
      sent.splice(0);
      const { token, body } = await savedWithToken(page, '/attachments/s3/params', () =>
        page.setInputFiles('[data-testid="file"]', {
          name: 'bucket.png',
          mimeType: 'image/png',
          buffer: image,
        }),
      );
      assert.match(token, /^v1\./);
      assert.deepEqual(body, { title: 'bucket', image: token }, 'only the token travels');
      const progress = await progressSoFar(page);
      const percents = progress.map((step) => step.percent);
      assert.ok(percents.length > 0, 'progress events were dispatched');
      assert.deepEqual(
        percents,
        [...percents].sort((a, b) => a - b),
        'progress never goes back',
      );
      assert.equal(percents.at(-1), 100);

      // The app was only asked for the presigned request, then got the JSON; the bytes went
      // to s3rver.
      const [params, form] = toApp();
      assert.deepEqual(
        [params, form].map((request) => `${request?.method} ${new URL(request!.url).pathname}`),
        ['GET /attachments/s3/params', 'POST /photos'],
      );
      const query = new URL(params!.url).searchParams;
      assert.deepEqual(Object.fromEntries(query), {
        filename: 'bucket.png',
        type: 'image/png',
        entity: 'Photo',
        attachment: 'image',
      });
      assert.deepEqual(
        toBucket().map(({ method, url }) => [method, url]),
        [['POST', `${s3.endpoint}/sample-photos/`]],
      );
      // Chromium reports no file bytes in requests; the upload's own progress counts them, and
      // the POST to the bucket was the page's one upload request.
      const total = progress.at(-1)!.total; // bytes of the request body, as XHR counts them
      assert.ok(total > image.length, `the upload request carried ${total} bytes`);

      const photo = page.getByTestId('photo');
      await photo
        .getByTestId('photo-state')
        .filter({ hasText: /^stored$/ })
        .waitFor();
      await photo.getByTestId('photo-showing').filter({ hasText: 'thumbnail' }).waitFor();
      const thumbnail = photo.getByTestId('photo-image');
      await waitFor(
        () => thumbnail.evaluate((shown) => (shown as InPageElement).complete),
        'the thumbnail to load',
      );
      assert.ok(await thumbnail.evaluate((shown) => (shown as InPageElement).naturalWidth > 0));
      await photo.locator('[data-step="deleted"][data-state="done"]').waitFor();
      const original = String(await photo.getByTestId('photo-link').getAttribute('href'));
      assert.ok(original.startsWith(`${s3.endpoint}/sample-photos/store/`), original);
      assert.ok(original.includes('X-Amz-Signature='), 'a presigned URL');
      const served = await fetch(original);
      assert.deepEqual(Buffer.from(await served.arrayBuffer()), image, 'the very bytes, stored');
      // Since the form, the app got only GETs (the preview, the thumbnail): still no file bytes.
      const withBodies = toApp()
        .slice(2)
        .filter((request) => request.method !== 'GET' || request.body);
      assert.deepEqual(withBodies, []);

      await photo.getByTestId('photo-delete').click();
      await page.waitForFunction(
        () => document.querySelectorAll('[data-testid="photo"]').length === 0,
      );
      assert.deepEqual((await api(app.baseUrl, 'GET', '/photos')).body, []);
      await bucketEmptied();
    });

    it('shows the refusal of a non-image when the photo is saved, next to the file, and keeps nothing', async () => {
      await page.setInputFiles('[data-testid="file"]', {
        name: 'notes.png',
        mimeType: 'image/png',
        buffer: Buffer.from('Only text, whatever the name says.\n'),
      });
      // The storage takes any bytes the policy allows; the app judges them when they are used.
      const refusal = page.getByTestId('photo').getByTestId('photo-error');
      await refusal.waitFor();
      assert.match(String(await refusal.textContent()), /text\/plain .*is not allowed/);
      assert.deepEqual((await api(app.baseUrl, 'GET', '/photos')).body, []);
      await bucketEmptied();
      await page.getByTestId('photo-dismiss').click();
    });

    it('uploadFileToStorage() resolves with the token and key, sends app headers to the app only, and rejects on abort', async () => {
      sent.splice(0);
      const outcome = await page.evaluate(async (url) => {
        const client = await import(url);
        const file = new File(['plain bytes'], 'notes.txt', { type: 'text/plain' });
        const done = await client.uploadFileToStorage(file, {
          entity: 'Photo',
          attachment: 'image',
          headers: { 'X-Csrf-Token': 'sample-csrf' },
        });
        const aborted = await client
          .uploadFileToStorage(file, { signal: AbortSignal.abort() })
          .then(
            () => null,
            (error: { name: string }) => error.name,
          );
        return { done, aborted };
      }, CLIENT_URL);
      assert.match(outcome.done.token, /^v1\./);
      assert.match(outcome.done.key, /^u1\.[\w-]+\.[\w-]{43}\/[0-9a-f-]{36}\.txt$/);
      assert.equal(outcome.done.url, `${s3.endpoint}/sample-photos/cache/${outcome.done.key}`);
      assert.equal(outcome.aborted, 'AbortError');
      assert.deepEqual(await keys(), [`cache/${outcome.done.key}`]);

      const [params] = toApp();
      assert.equal(params?.headers['x-csrf-token'], 'sample-csrf');
      assert.deepEqual(
        toBucket().map((request) => [request.method, request.headers['x-csrf-token']]),
        [['POST', undefined]],
      );
      // No record took the token: delete the object, as the cleanup of stale cache files would.
      await client.send(
        new DeleteObjectCommand({ Bucket: s3.bucket, Key: `cache/${outcome.done.key}` }),
      );
      await bucketEmptied();
    });

    it("uploadFileToStorage() rejects with the storage's status, code and message when it refuses", async () => {
      // The presigned request loses its key on the way to the page, a request S3 refuses.
      await page.route('**/attachments/s3/params**', async (route) => {
        const response = await route.fetch();
        const answer = (await response.json()) as { fields: Record<string, string> };
        delete answer.fields.key;
        await route.fulfill({ response, json: answer });
      });
      try {
        const failure = await page.evaluate(async (url) => {
          const client = await import(url);
          const file = new File(['x'], 'x.png', { type: 'image/png' });
          return client.uploadFileToStorage(file, { entity: 'Photo', attachment: 'image' }).then(
            () => null,
            (error: { name: string; status: number; code: string; message: string }) => ({
              name: error.name,
              status: error.status,
              code: error.code,
              message: error.message,
              typed: error instanceof client.DirectUploadError,
            }),
          );
        }, CLIENT_URL);
        assert.deepEqual(failure, {
          name: 'DirectUploadError',
          status: 400,
          code: 'InvalidArgument',
          message:
            "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields",
          typed: true,
        });
      } finally {
        await page.unroute('**/attachments/s3/params**');
      }
      assert.deepEqual(await keys(), []);
      // Refused requests are logged (400 here, 415 for the text file); no CSP or CORS refusal is.
      assert.ok(consoleErrors.some((text) => /status of 400/.test(text)));
      assert.deepEqual(
        consoleErrors.filter((text) => /Content Security Policy|CORS|Access-Control/i.test(text)),
        [],
      );
    });
  });
}
