import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page, Request, Route } from 'playwright-core';
import { png } from '../support/fixtures.js';
import { launchBrowser } from '../support/browser.js';
import { waitFor } from '../support/harness.js';
import { api } from './http.js';
import { noisyPng } from './noisy-png.js';
import { filesUnder, startSampleApp, type SampleApp } from './sample-app.js';
import { tokenOnceUploaded } from './sample-page.js';
import { PLATFORMS } from '../support/platforms.js';

// The callbacks given to page.evaluate() run in Chromium. The tests compile without the DOM
// library (it would also let Node code use browser globals), so the little they use is declared.
interface InPageElement {
  value: number | string;
  max: number;
  hidden: boolean;
  textContent: string | null;
  validationMessage: string;
  complete: boolean;
  naturalWidth: number;
  currentSrc: string;
  addEventListener(type: string, listener: (event: { detail: { percent: number } }) => void): void;
}
declare const document: {
  querySelector(selector: string): InPageElement | null;
  querySelectorAll(selector: string): { length: number };
  addEventListener: InPageElement['addEventListener'];
};
declare const window: { percents: number[]; submits: number };
declare const File: new (parts: unknown[], name: string, options: { type: string }) => Blob;

const MB = 1024 * 1024;
const CLIENT_URL = '/attachments/client.js';

for (const platform of PLATFORMS) {
  describe(`the sample page in Chromium on ${platform}`, () => {
    let uploads: string;
    let app: SampleApp;
    let browser: Browser;
    let page: Page;
    const pageErrors: Error[] = [];

    const isPhotosPost = (request: Request) =>
      request.method() === 'POST' && new URL(request.url()).pathname === '/photos';

    /** Waits for the background jobs to empty both storages, temporary files included. */
    async function storagesEmptied() {
      const files = async () => [
        ...(await filesUnder(join(uploads, 'cache'))),
        ...(await filesUnder(join(uploads, 'store'))),
      ];
      await waitFor(async () => (await files()).length === 0, 'empty storages').catch(() => null);
      assert.deepEqual(await files(), []);
    }

    /** The one photo of the list: its state text once it is `stored` and its image has loaded. */
    async function untilStoredAndShown() {
      await page.waitForFunction(
        () => document.querySelector('[data-testid="photo-state"]')?.textContent === 'stored',
      );
      await page.waitForFunction(() => {
        const image = document.querySelector('[data-testid="photo-image"]');
        return image?.complete && image.naturalWidth > 0 && image.currentSrc.includes('/store/');
      });
      return page.$eval(
        '[data-testid="photo-image"]',
        (image) => (image as InPageElement).naturalWidth,
      );
    }

    async function deleteThePhoto() {
      await page.click('[data-testid="photo-delete"]');
      await page.waitForFunction(
        () => document.querySelectorAll('[data-testid="photo"]').length === 0,
      );
      assert.deepEqual((await api(app.baseUrl, 'GET', '/photos')).body, []);
      await storagesEmptied();
    }

    before(async () => {
      uploads = await mkdtemp(join(tmpdir(), 'sample-browser-'));
      app = await startSampleApp({ uploads, platform });
      browser = await launchBrowser();
      page = await browser.newPage();
      page.on('pageerror', (error) => pageErrors.push(error));
      await page.goto(`${app.baseUrl}/`);
      // The page's module script has run once the client has wired the file input.
      await page.waitForSelector('[data-testid="file"][data-direct-upload-wired]', {
        state: 'attached',
      });
      await page.evaluate(() => {
        window.percents = [];
        window.submits = 0;
        document.addEventListener('direct-upload:progress', (event) => {
          window.percents.push(event.detail.percent);
        });
        // Registered after the page's own listener: counts the submits that reached the page.
        document.querySelector('[data-testid="photo-form"]')!.addEventListener('submit', () => {
          window.submits++;
        });
      });
    });

    after(async () => {
      await browser?.close();
      await app?.stop();
      await rm(uploads, { recursive: true, force: true });
      assert.deepEqual(pageErrors, []);
    });

    it('uploads a multi-megabyte PNG with progress, shows it processing then stored, deletes it', async () => {
      const image = noisyPng(1100, 1000);
      assert.ok(image.length > 3 * MB && image.length <= 10 * MB, `${image.length} bytes`);
      const title = '<img src=x onerror="document.title=1"> Sunset & "sea"';
      await page.fill('[data-testid="title"]', title);
      await page.setInputFiles('[data-testid="file"]', {
        name: 'sunset.png',
        mimeType: 'image/png',
        buffer: image,
      });

      const sent = await tokenOnceUploaded(page);
      assert.match(sent, /^v1\.[\w-]+\.[\w-]+$/, 'the form holds the token in place of the file');
      const percents = await page.evaluate(() => window.percents);
      assert.ok(percents.length > 0, 'progress events were dispatched');
      assert.deepEqual(
        percents,
        [...percents].sort((a, b) => a - b),
        'progress never goes back',
      );
      assert.equal(percents.at(-1), 100);

      const posting = page.waitForRequest(isPhotosPost);
      await page.click('[data-testid="submit"]');
      const request = await posting;
      assert.deepEqual(request.postDataJSON(), { title, image: sent }, 'only the token travels');
      assert.equal(request.headers()['content-type'], 'application/json');

      await page.waitForSelector('[data-testid="photo"]');
      const state = await page.textContent('[data-testid="photo-state"]');
      assert.ok(state === 'processing' || state === 'stored', String(state));
      assert.equal(await untilStoredAndShown(), 1100);
      assert.equal(await page.textContent('[data-testid="photo-title"]'), title);
      assert.equal(await page.$$eval('[data-testid="photo-title"] *', (found) => found.length), 0);
      assert.notEqual(await page.title(), '1', 'the title was shown as text, not run as HTML');

      await deleteThePhoto();
    });

    it('holds a submit made while the file uploads, and sends it once the token is there', async () => {
      let continueUpload: Route | undefined;
      const uploadStarted = new Promise<Route>((resolve) => {
        void page.route('**/attachments/upload**', (route) => resolve((continueUpload = route)));
      });
      try {
        await page.fill('[data-testid="title"]', 'Held');
        await page.evaluate(() => (window.submits = 0));
        await page.setInputFiles('[data-testid="file"]', {
          name: 'held.png',
          mimeType: 'image/png',
          buffer: png(64, 48, 5),
        });
        await uploadStarted; // the request is on hold in the browser: the upload is in progress
        await page.click('[data-testid="submit"]');
        assert.equal(await page.evaluate(() => window.submits), 0, 'the submit was held');

        const posting = page.waitForRequest(isPhotosPost);
        await continueUpload!.continue();
        const request = await posting;
        assert.equal(await page.evaluate(() => window.submits), 1, 'then sent, once');
        const body = request.postDataJSON() as { title: string; image: string };
        assert.equal(body.title, 'Held');
        assert.match(body.image, /^v1\./);
      } finally {
        await page.unroute('**/attachments/upload**');
      }
      assert.equal(await untilStoredAndShown(), 64);
      await deleteThePhoto();
    });

    it('shows why an upload was refused, and does not submit the form', async () => {
      await page.fill('[data-testid="title"]', 'Not a picture');
      await page.evaluate(() => (window.submits = 0));
      await page.setInputFiles('[data-testid="file"]', {
        name: 'notes.png',
        mimeType: 'image/png',
        buffer: Buffer.from('Only text, whatever the name says.\n'),
      });
      await page.waitForFunction(
        () => document.querySelector('[data-testid="image-error"]')?.hidden === false,
      );
      const message = await page.textContent('[data-testid="image-error"]');
      assert.match(String(message), /text\/plain .*is not allowed/);

      await page.click('[data-testid="submit"]');
      assert.equal(await page.evaluate(() => window.submits), 0, 'the form was not submitted');
      assert.equal(await page.isVisible('[data-testid="image-error"]'), true);
      assert.equal(
        await page.$eval(
          '[data-testid="file"]',
          (input) => (input as InPageElement).validationMessage,
        ),
        message,
      );
      assert.deepEqual((await api(app.baseUrl, 'GET', '/photos')).body, []);
      await storagesEmptied(); // the refused file was deleted when it was refused
    });

    it('uploadFile() rejects with the status and code of refused files, and on abort', async () => {
      const outcome = await page.evaluate(async (url) => {
        const client = await import(url);
        const file = new File(['plain text, not an image'], 'notes.txt', { type: 'text/plain' });
        const failure = (error: { name: string; status?: number; code?: string }) => ({
          name: error.name,
          status: error.status,
          code: error.code,
          typed: error instanceof client.DirectUploadError,
        });
        const refused = await client
          .uploadFile(file, { entity: 'Photo', attachment: 'image' })
          .then(() => null, failure);
        // Over the attachment's 10 MB: the server answers before reading it all, and closes.
        const bytes = new Uint8Array(11 * 1024 * 1024);
        bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]); // starts as a PNG would
        const tooLarge = await client
          .uploadFile(new File([bytes], 'big.png', { type: 'image/png' }), {
            entity: 'Photo',
            attachment: 'image',
          })
          .then(() => null, failure);
        const aborted = await client
          .uploadFile(file, { signal: AbortSignal.abort() })
          .then(() => null, failure);
        return { refused, tooLarge, aborted };
      }, CLIENT_URL);
      assert.deepEqual(outcome.refused, {
        name: 'DirectUploadError',
        status: 415,
        code: 'file_type_not_allowed',
        typed: true,
      });
      assert.deepEqual(outcome.tooLarge, {
        name: 'DirectUploadError',
        status: 413,
        code: 'file_too_large',
        typed: true,
      });
      assert.equal(outcome.aborted?.name, 'AbortError');
      await storagesEmptied();
    });
  });
}
