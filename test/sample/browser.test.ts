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
import { isPhotosPost, openSamplePage, progressSoFar, savedWithToken } from './sample-page.js';
import { PLATFORMS } from '../support/platforms.js';

// The callbacks given to page.evaluate() run in Chromium. The tests compile without the DOM
// library (it would also let Node code use browser globals), so the little they use is declared.
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
const UPLOAD_PATH = '/attachments/upload';

for (const platform of PLATFORMS) {
  describe(`the sample page in Chromium on ${platform}`, () => {
    let uploads: string;
    let app: SampleApp;
    let browser: Browser;
    let page: Page;
    const pageErrors: Error[] = [];
    /** Every POST /photos the page sent. */
    const saves: Request[] = [];

    /** Waits for the background jobs to empty both storages, temporary files included. */
    async function storagesEmptied() {
      const files = async () => [
        ...(await filesUnder(join(uploads, 'cache'))),
        ...(await filesUnder(join(uploads, 'store'))),
      ];
      await waitFor(async () => (await files()).length === 0, 'empty storages').catch(() => null);
      assert.deepEqual(await files(), []);
    }

    const photo = () => page.getByTestId('photo');

    /**
     * The one photo of the list, once it is `stored`, its thumbnail is shown and its timeline
     * has reached the deletion of the cached copy: the original's bytes, from its link.
     */
    async function untilStoredAndShown(): Promise<Buffer> {
      await photo()
        .getByTestId('photo-state')
        .filter({ hasText: /^stored$/ })
        .waitFor();
      await photo().getByTestId('photo-showing').filter({ hasText: 'thumbnail' }).waitFor();
      const thumbnail = photo().getByTestId('photo-image');
      await waitFor(
        () => thumbnail.evaluate((image) => (image as InPageElement).complete),
        'the thumbnail to load',
      );
      assert.ok(await thumbnail.evaluate((image) => (image as InPageElement).naturalWidth > 0));
      await photo().locator('[data-step="deleted"][data-state="done"]').waitFor();
      const original = String(await photo().getByTestId('photo-link').getAttribute('href'));
      assert.match(original, /^\/attachments\/files\/store\//);
      const served = await fetch(app.baseUrl + original);
      assert.equal(served.status, 200);
      return Buffer.from(await served.arrayBuffer());
    }

    async function deleteThePhoto() {
      await photo().getByTestId('photo-delete').click();
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
      page.on('request', (request) => {
        if (isPhotosPost(request)) saves.push(request);
      });
      await openSamplePage(page, app.baseUrl);
    });

    after(async () => {
      await browser?.close();
      await app?.stop();
      await rm(uploads, { recursive: true, force: true });
      assert.deepEqual(pageErrors, []);
    });

    it('uploads a multi-megabyte PNG with progress, saves it with its token, shows it stored, deletes it', async () => {
      const image = noisyPng(1100, 1000);
      assert.ok(image.length > 3 * MB && image.length <= 10 * MB, `${image.length} bytes`);
      const title = '<img src=x onerror="document.title=1"> Sunset & "sea"';
      const { token, body, request } = await savedWithToken(page, UPLOAD_PATH, () =>
        page.setInputFiles('[data-testid="file"]', {
          name: `${title}.png`,
          mimeType: 'image/png',
          buffer: image,
        }),
      );
      assert.match(token, /^v1\.[\w-]+\.[\w-]+$/);
      assert.deepEqual(body, { title, image: token }, 'only the token travels');
      assert.equal(request.headers()['content-type'], 'application/json');
      const percents = (await progressSoFar(page)).map((progress) => progress.percent);
      assert.ok(percents.length > 0, 'progress events were dispatched');
      assert.deepEqual(
        percents,
        [...percents].sort((a, b) => a - b),
        'progress never goes back',
      );
      assert.equal(percents.at(-1), 100);

      // The record is being saved, or saved with its image still cached, or already promoted.
      const state = await photo().getByTestId('photo-state').textContent();
      assert.ok(['saving', 'processing', 'stored'].includes(String(state)), String(state));
      assert.deepEqual(await untilStoredAndShown(), image);
      assert.equal(await photo().getByTestId('photo-title').textContent(), title);
      assert.equal(await page.$$eval('[data-testid="photo-title"] *', (found) => found.length), 0);
      assert.notEqual(await page.title(), '1', 'the title was shown as text, not run as HTML');

      await deleteThePhoto();
    });

    it('saves the photo only once its upload has finished, then with its token', async () => {
      let continueUpload: Route | undefined;
      const uploadStarted = new Promise<Route>((resolve) => {
        void page.route('**/attachments/upload**', (route) => resolve((continueUpload = route)));
      });
      const image = png(64, 48, 5);
      try {
        saves.splice(0);
        await page.setInputFiles('[data-testid="file"]', {
          name: 'held.png',
          mimeType: 'image/png',
          buffer: image,
        });
        await uploadStarted; // the request is on hold in the browser: the upload is in progress
        assert.equal(await photo().getByTestId('photo-state').textContent(), 'uploading');
        assert.equal(saves.length, 0, 'nothing was saved while the file uploads');

        const posting = page.waitForRequest(isPhotosPost);
        await continueUpload!.continue();
        const body = (await posting).postDataJSON() as { title: string; image: string };
        assert.equal(body.title, 'held');
        assert.match(body.image, /^v1\./);
        assert.equal(saves.length, 1, 'then saved, once');
      } finally {
        await page.unroute('**/attachments/upload**');
      }
      assert.deepEqual(await untilStoredAndShown(), image);
      await deleteThePhoto();
    });

    it('shows why an upload was refused next to the file, and saves nothing', async () => {
      saves.splice(0);
      await page.setInputFiles('[data-testid="file"]', {
        name: 'notes.png',
        mimeType: 'image/png',
        buffer: Buffer.from('Only text, whatever the name says.\n'),
      });
      const refusal = photo().getByTestId('photo-error');
      await refusal.waitFor();
      assert.match(String(await refusal.textContent()), /text\/plain .*is not allowed/);
      assert.equal(await photo().getByTestId('photo-state').textContent(), 'refused');
      assert.equal(saves.length, 0, 'no photo was saved');
      assert.deepEqual((await api(app.baseUrl, 'GET', '/photos')).body, []);
      await storagesEmptied(); // the refused file was deleted when it was refused
      await photo().getByTestId('photo-dismiss').click();
      await page.waitForFunction(
        () => document.querySelectorAll('[data-testid="photo"]').length === 0,
      );
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
