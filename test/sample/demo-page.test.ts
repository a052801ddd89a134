import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page, Route } from 'playwright-core';
import sharp from 'sharp';
import { png } from '../support/fixtures.js';
import { launchBrowser } from '../support/browser.js';
import { waitFor } from '../support/harness.js';
import { api } from './http.js';
import { filesUnder, startSampleApp, type SampleApp } from './sample-app.js';
import { scenery } from './scenery.js';

// The callbacks given to page.evaluate() run in Chromium; the tests compile without the DOM
// library, so the little they use is declared (as in browser.test.ts).
interface InPageNode {
  textContent: string | null;
  dataset: Record<string, string | undefined>;
  complete: boolean;
  naturalWidth: number;
  querySelector(selector: string): InPageNode | null;
  querySelectorAll(selector: string): InPageNode[];
}
declare const document: {
  querySelector(selector: string): InPageNode | null;
  querySelectorAll(selector: string): InPageNode[];
};
declare const DataTransfer: new () => { items: { add(file: unknown): void } };
declare const File: new (parts: unknown[], name: string, options: { type: string }) => unknown;

interface DroppedFile {
  name: string;
  mimeType: string;
  buffer: Buffer;
}

const STEPS = ['uploaded', 'saved', 'promoted', 'thumb', 'deleted'];

/** Drops files on `selector` as a user dragging them from the desktop would. */
async function drop(page: Page, selector: string, files: DroppedFile[]): Promise<void> {
  const sent = files.map((file) => ({
    name: file.name,
    type: file.mimeType,
    data: file.buffer.toString('base64'),
  }));
  const transfer = await page.evaluateHandle((all) => {
    const transfer = new DataTransfer();
    for (const file of all) {
      const bytes = Uint8Array.from(atob(file.data), (char) => char.charCodeAt(0));
      transfer.items.add(new File([bytes], file.name, { type: file.type }));
    }
    return transfer;
  }, sent);
  await page.dispatchEvent(selector, 'dragover', { dataTransfer: transfer });
  await page.dispatchEvent(selector, 'drop', { dataTransfer: transfer });
  await transfer.dispose();
}

/** The card of the photo titled `title`. */
function card(page: Page, title: string) {
  return page.locator('[data-testid="photo"]', {
    has: page.locator('[data-testid="photo-title"]', { hasText: title }),
  });
}

describe('the sample page as a demo: drop zone, timelines, thumbnails, refusals, albums', () => {
  let uploads: string;
  let shots: string;
  let app: SampleApp;
  let browser: Browser;
  let page: Page;
  const pageErrors: Error[] = [];
  const taken: string[] = [];

  /** A screenshot of the viewport, in 256 colours: small enough to keep in the repository. */
  async function screenshot(name: string) {
    const path = join(shots, `${name}.png`);
    const shot = await page.screenshot();
    await writeFile(path, await sharp(shot).png({ palette: true, compressionLevel: 9 }).toBuffer());
    taken.push(path);
  }

  before(async () => {
    uploads = await mkdtemp(join(tmpdir(), 'sample-demo-'));
    shots = process.env.SAMPLE_SCREENSHOTS
      ? resolve(process.env.SAMPLE_SCREENSHOTS)
      : await mkdtemp(join(tmpdir(), 'sample-screenshots-'));
    await mkdir(shots, { recursive: true });
    app = await startSampleApp({ uploads });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (error) => pageErrors.push(error));
    await page.goto(`${app.baseUrl}/`);
    // Ready once the event stream is open: every step of a file dropped from now on shows.
    await page.waitForSelector('body[data-ready="true"]');
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    await rm(uploads, { recursive: true, force: true });
    if (!process.env.SAMPLE_SCREENSHOTS) await rm(shots, { recursive: true, force: true });
    assert.deepEqual(pageErrors, []);
  });

  it('shows each dropped photo go through its steps, then its thumbnail', async () => {
    await screenshot('1-empty');
    // The thumbnails' first requests wait in the browser: the cards show their placeholders.
    const held: Route[] = [];
    const bothHeld = new Promise<void>((resolve) => {
      void page.route('**/attachments/derivatives/**', (route) => {
        if (held.push(route) === 2) resolve();
      });
    });
    await drop(page, '[data-testid="dropzone"]', [
      { name: 'lake.png', mimeType: 'image/png', buffer: await scenery(1600, 1200, 200) },
      { name: 'tiny.png', mimeType: 'image/png', buffer: png(64, 48, 7) },
    ]);
    await bothHeld;
    for (const title of ['lake', 'tiny']) {
      await card(page, title)
        .getByTestId('photo-showing')
        .filter({ hasText: 'placeholder' })
        .waitFor();
      assert.equal(
        await card(page, title).locator('[data-step="thumb"]').getAttribute('data-state'),
        'active',
      );
    }
    await screenshot('2-placeholders');
    for (const route of held) await route.continue();
    await page.unroute('**/attachments/derivatives/**');
    for (const title of ['lake', 'tiny']) {
      await card(page, title)
        .locator('[data-step="deleted"][data-state="done"]')
        .waitFor({ timeout: 60_000 });
    }
    // The thumbnail is 480 px wide, or the original's width for a smaller one (never enlarged).
    for (const [title, width] of [
      ['lake', 480],
      ['tiny', 64],
    ] as const) {
      const shown = card(page, title).getByTestId('photo-image');
      await card(page, title)
        .getByTestId('photo-showing')
        .filter({ hasText: 'thumbnail' })
        .waitFor();
      await waitFor(
        () => shown.evaluate((image) => (image as InPageNode).complete),
        `the thumbnail of ${title} to load`,
      );
      assert.equal(await shown.evaluate((image) => (image as InPageNode).naturalWidth), width);
      assert.match(String(await shown.getAttribute('src')), /thumb/);
    }
    await screenshot('3-timelines');

    for (const title of ['lake', 'tiny']) {
      const steps = card(page, title).locator('[data-testid="timeline"] li');
      assert.deepEqual(
        await steps.evaluateAll((items) => items.map((item) => (item as InPageNode).dataset.step)),
        STEPS,
      );
      assert.deepEqual(
        await steps.evaluateAll((items) => items.map((item) => (item as InPageNode).dataset.state)),
        STEPS.map(() => 'done'),
      );
      const seconds = await steps
        .locator('time')
        .evaluateAll((times) =>
          times.map((time) => Number((time as InPageNode).textContent!.replace(/[+ s]/g, ''))),
        );
      const [uploaded, saved, promoted, thumb, deleted] = seconds as [number, ...number[]];
      // What causes what: the upload, the save, the promotion, then the thumbnail and deletion.
      assert.ok(uploaded <= saved! && saved! <= promoted!, seconds.join(', '));
      assert.ok(promoted! <= thumb! && promoted! <= deleted!, seconds.join(', '));
      assert.equal(await card(page, title).getByTestId('photo-state').textContent(), 'stored');
    }
    assert.match(
      String(await card(page, 'lake').locator('[data-step="uploaded"]').textContent()),
      /Uploaded to the cache.*(KB|MB) in \d+ ms/,
    );

    // The server holds each original and its thumbnail in the store, and no cached copy.
    const photos = (await api(app.baseUrl, 'GET', '/photos')).body as unknown as {
      image: { state: string };
    }[];
    assert.deepEqual(
      photos.map((photo) => photo.image.state),
      ['stored', 'stored'],
    );
    assert.deepEqual(await filesUnder(join(uploads, 'cache')), []);
    const stored = await filesUnder(join(uploads, 'store'));
    assert.equal(stored.filter((file) => file.endsWith('/thumb.webp')).length, 2, String(stored));
    assert.equal(stored.length, 4, String(stored));
  });

  it('shows why a non-image and an oversized file were refused, next to each file', async () => {
    const oversized = Buffer.alloc(11 * 1024 * 1024);
    oversized.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]); // starts as a PNG would
    await drop(page, '[data-testid="dropzone"]', [
      { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('Only text.\n') },
      { name: 'huge.png', mimeType: 'image/png', buffer: oversized },
    ]);
    const refusal = (title: string) => card(page, title).getByTestId('photo-error');
    await refusal('notes').waitFor();
    await refusal('huge').waitFor();
    assert.match(String(await refusal('notes').textContent()), /text\/plain .*is not allowed/);
    assert.match(String(await refusal('huge').textContent()), /larger than the limit/);
    for (const title of ['notes', 'huge']) {
      assert.equal(await card(page, title).getByTestId('photo-state').textContent(), 'refused');
    }
    await screenshot('4-refused');
    assert.equal(((await api(app.baseUrl, 'GET', '/photos')).body as unknown as []).length, 2);
    assert.deepEqual(await filesUnder(join(uploads, 'cache')), []);
    for (const title of ['notes', 'huge'])
      await card(page, title).getByTestId('photo-dismiss').click();
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="photo-error"]:not([hidden])').length === 0,
    );
  });

  it('makes an album, adds photos, reorders and removes one; the order survives a reload', async () => {
    const names = () =>
      page
        .getByTestId('album-photo-name')
        .evaluateAll((found) => found.map((name) => (name as InPageNode).textContent));
    await page.getByTestId('album-title').fill('Summer');
    await page.getByTestId('album-create').click();
    await page.getByTestId('album').waitFor();
    await page.getByTestId('album-file').setInputFiles([
      { name: 'dawn.png', mimeType: 'image/png', buffer: await scenery(800, 600, 20) },
      { name: 'noon.png', mimeType: 'image/png', buffer: await scenery(800, 600, 120) },
      { name: 'dusk.png', mimeType: 'image/png', buffer: await scenery(800, 600, 280) },
    ]);
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="album-photo"]').length === 3,
    );
    assert.deepEqual(await names(), ['dawn.png', 'noon.png', 'dusk.png']);

    // dusk to the front, by its button twice.
    const tile = (name: string) => page.locator('[data-testid="album-photo"]', { hasText: name });
    await tile('dusk').getByTestId('album-photo-left').click();
    await waitFor(async () => (await names())[1] === 'dusk.png', 'dusk moved once');
    await tile('dusk').getByTestId('album-photo-left').click();
    await waitFor(async () => (await names())[0] === 'dusk.png', 'dusk first');
    // noon to the front, by its button twice. (Dragging a tile does the same on the page; a drag
    // that Chromium synthesizes under load is not reliable enough to drive here.)
    await tile('noon').getByTestId('album-photo-left').click();
    await waitFor(async () => (await names())[1] === 'noon.png', 'noon moved once');
    await tile('noon').getByTestId('album-photo-left').click();
    await waitFor(async () => (await names())[0] === 'noon.png', 'noon first');
    assert.deepEqual(await names(), ['noon.png', 'dusk.png', 'dawn.png']);
    await tile('noon').getByTestId('album-photo-remove').click();
    await waitFor(async () => (await names()).length === 2, 'noon removed');
    assert.deepEqual(await names(), ['dusk.png', 'dawn.png']);

    // Each file of the list is promoted and gets its thumbnail in a job of its own.
    const albums = async () =>
      (await api(app.baseUrl, 'GET', '/albums')).body as unknown as {
        photos: {
          state: string;
          metadata: { filename: string };
          derivatives: { thumb: { ready: boolean } };
        }[];
      }[];
    await waitFor(
      async () =>
        (await albums())[0]!.photos.every(
          (photo) => photo.state === 'stored' && photo.derivatives.thumb.ready,
        ),
      'the album photos stored with thumbnails',
    );
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="album-photo"]').length === 2,
    );
    assert.deepEqual(await names(), ['dusk.png', 'dawn.png']);
    assert.deepEqual(
      (await albums())[0]!.photos.map((photo) => photo.metadata.filename),
      ['dusk.png', 'dawn.png'],
    );
    await page.waitForFunction(() =>
      [...document.querySelectorAll('[data-testid="album-photo-image"]')].every(
        (image) => image.complete && image.naturalWidth === 240,
      ),
    );
    await page.getByTestId('album').scrollIntoViewIfNeeded();
    await screenshot('5-album');
  });

  it('took its screenshots as PNGs', async () => {
    assert.equal(taken.length, 5);
    const { width, height } = await sharp(taken[0]).metadata();
    assert.deepEqual([width, height], [1280, 800]);
    for (const path of taken) {
      const bytes = await readFile(path);
      assert.ok(bytes.length > 1000 && bytes.length < 300 * 1024, `${path}: ${bytes.length} bytes`);
      assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    }
  });
});
