import '../support/harness.js';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page, Request, Route } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import {
  startDroppingProxy,
  untilStaged,
  type DroppingProxy,
  type ForwardedPatch,
} from '../support/dropping-proxy.js';
import { Dossier, Photo } from '../support/entities.js';
import { pdf } from '../support/fixtures.js';
import { filesOnDisk, waitFor, waitForIdle } from '../support/harness.js';
import { useHarness } from '../support/suite.js';
import { noisyPng } from '../sample/noisy-png.js';

// The callbacks given to page.evaluate() run in Chromium; the tests compile without the DOM
// library, so the little they use is declared.
interface Outcome {
  done?: { token: string; file: { metadata: { sha256?: string; size: number } }; url: string };
  failure?: { name: string; message: string; status?: number; code?: string; typed: boolean };
  progress: { loaded: number; total: number; percent: number }[];
}
interface InPageElement {
  value: string;
  addEventListener(type: string, handler: (event: { detail: unknown }) => void): void;
}
declare const document: {
  body: { innerHTML: string };
  querySelector(selector: string): InPageElement;
};
declare const window: {
  upload: Promise<Outcome>;
  wired: Promise<{ done?: Outcome['done']; error?: string }>;
  stop: (reason: unknown) => void;
  localStorage: { length: number; key(index: number): string | null };
};

const KiB = 1024;
const MiB = 1024 * KiB;
const CLIENT_URL = '/attachments/client.js';
/** Where the proxy cuts the first PATCH. */
const CUT_AT = 256 * KiB;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('uploadFileResumable() in Chromium over tus', () => {
  const staging = mkdtempSync(join(tmpdir(), 'attachments-client-tus-'));
  const suite = useHarness('sqlite', [Dossier, Photo], {
    http: true,
    upload: { tus: { directory: staging } },
  });
  let browser: Browser;
  let page: Page;
  /** Every request the page sent since it was opened. */
  let sent: Request[] = [];
  const pageErrors: Error[] = [];

  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await rm(staging, { recursive: true, force: true });
    assert.deepEqual(pageErrors, []);
  });

  /** A page of `origin` (the app, or the proxy in front of it), or the same page reloaded. */
  async function openPage(origin: string, context: Browser | BrowserContext = browser) {
    page = await context.newPage();
    sent = [];
    page.on('pageerror', (error) => pageErrors.push(error));
    page.on('request', (request) => sent.push(request));
    // Any page of the origin can import the client; this one is the client itself.
    await page.goto(`${origin}${CLIENT_URL}`);
    return page;
  }

  /**
   * Starts `uploadFileResumable()` in the page on a PNG file `name` of `bytes` (always the same
   * date, so that a later page sees the same file); `window.upload` settles with the outcome and
   * `window.stop(reason)` aborts it.
   */
  async function start(bytes: Buffer, options: Record<string, unknown>): Promise<void> {
    await page.evaluate(
      async ({ url, base64, options }) => {
        const client = await import(url);
        const data = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
        const file = new File([data], 'scan.png', { type: 'image/png', lastModified: 1e12 });
        const controller = new AbortController();
        window.stop = (reason) => controller.abort(reason);
        const progress: Outcome['progress'] = [];
        window.upload = client
          .uploadFileResumable(file, {
            signal: controller.signal,
            onProgress: (event: Outcome['progress'][number]) => progress.push(event),
            ...options,
          })
          .then(
            (done: Outcome['done']) => ({ done, progress }),
            (error: Error & { status?: number; code?: string }) => ({
              failure: {
                name: error.name,
                message: error.message,
                status: error.status,
                code: error.code,
                typed: error instanceof client.DirectUploadError,
              },
              progress,
            }),
          );
      },
      { url: CLIENT_URL, base64: bytes.toString('base64'), options },
    );
  }

  const outcome = () => page.evaluate(() => window.upload);
  const remembered = () =>
    page.evaluate(() =>
      Array.from({ length: window.localStorage.length }, (_, index) =>
        window.localStorage.key(index),
      ),
    );
  const tusRequests = (method: string) =>
    sent.filter(
      (request) => request.method() === method && request.url().includes('/attachments/tus'),
    );
  /** The offsets the server answered to the page's HEAD requests, in order. */
  async function headOffsets(): Promise<number[]> {
    const answers = await Promise.all(tusRequests('HEAD').map((request) => request.response()));
    return answers.map((answer) => Number(answer?.headers()['upload-offset']));
  }

  /** Progress that never went back and ended at the whole file. */
  function assertProgress(progress: Outcome['progress'], size: number) {
    const loaded = progress.map((event) => event.loaded);
    assert.deepEqual(
      loaded,
      [...loaded].sort((a, b) => a - b),
      'progress never goes back',
    );
    assert.ok(progress.every((event) => event.total === size));
    assert.deepEqual(progress.at(-1), { loaded: size, total: size, percent: 100 });
  }

  /**
   * From `resumed` on, the PATCHes continue each other in slices of at most `chunkSize` up to the
   * end of the file, the last one answered 200: only the rest of the file was sent.
   */
  function assertSentTheRest(patches: ForwardedPatch[], size: number, chunkSize: number) {
    const seen = JSON.stringify(patches);
    let offset = patches[0]!.offset;
    for (const [index, patch] of patches.entries()) {
      assert.equal(patch.offset, offset, `contiguous: ${seen}`);
      assert.ok(patch.bodyBytes > 0 && patch.bodyBytes <= chunkSize, seen);
      assert.equal(patch.status, index === patches.length - 1 ? 200 : 204, seen);
      offset += patch.bodyBytes;
    }
    assert.equal(offset, size, `up to the end of the file: ${seen}`);
  }

  /** The answer's token attached to a dossier: the stored file holds the very bytes. */
  async function assertStored(token: string, bytes: Buffer) {
    const dossiers = suite.db.dataSource.getRepository(Dossier);
    const dossier = dossiers.create();
    await suite.harness.attachments.attach(dossier, 'report', token);
    await dossiers.save(dossier);
    await waitForIdle(suite.harness, suite.db.dataSource);
    const saved = await dossiers.findOneByOrFail({ id: dossier.id });
    assert.equal(saved.report?.storage, 'store');
    const chunks: Buffer[] = [];
    for await (const chunk of await suite.harness.storages.store!.open(saved.report!.id))
      chunks.push(chunk as Buffer);
    assert.equal(sha256(Buffer.concat(chunks)), sha256(bytes));
  }

  it('resumes from the offset the server has after the connection drops mid-chunk', async () => {
    const proxy = await startDroppingProxy(
      suite.harness.baseUrl,
      CUT_AT,
      untilStaged(staging, CUT_AT),
    );
    try {
      await openPage(proxy.url);
      const image = noisyPng(1000, 1000); // about 3 MiB: four chunks of 1 MiB
      const chunkSize = 1 * MiB;
      await start(image, {
        entity: 'Dossier',
        attachment: 'report',
        chunkSize,
        retryDelays: [0, 100, 500],
      });
      const { done, failure, progress } = await outcome();
      assert.equal(failure, undefined, JSON.stringify(failure));
      await proxy.dropped;

      const seen = JSON.stringify(proxy.patches);
      const [cut, ...later] = proxy.patches;
      assert.deepEqual([cut?.offset, cut?.bodyBytes, cut?.status], [0, CUT_AT, undefined], seen);
      // Chromium may send the cut request again on its own; the server refuses that copy (409).
      const refused = later.findIndex((patch) => patch.status !== 409);
      assert.ok(refused === 0 || refused === 1, seen);
      const rest = later.slice(refused);
      const resumedAt = rest[0]!.offset;
      assert.ok(resumedAt > 0 && resumedAt <= CUT_AT, `resumed at ${resumedAt}: ${seen}`);
      assert.equal((await headOffsets()).at(-1), resumedAt, 'from the offset the server answered');
      assertSentTheRest(rest, image.length, chunkSize);
      assert.equal(tusRequests('POST').length, 1);

      assert.equal(done!.file.metadata.sha256, sha256(image));
      assertProgress(progress, image.length);
      assert.deepEqual(await remembered(), [], 'a finished upload is forgotten');
      assert.deepEqual(await readdir(staging), [], 'the waiting copy is gone');
      await assertStored(done!.token, image);
      await page.close();
    } finally {
      await proxy.close();
    }
  });

  it('rejects with DirectUploadError 413 file_too_large at creation, and keeps nothing', async () => {
    await openPage(suite.harness.baseUrl);
    const big = noisyPng(700, 600); // Photo's image takes at most 1 MiB
    assert.ok(big.length > MiB);
    await start(big, { entity: 'Photo', attachment: 'image', chunkSize: 256 * KiB });
    const { done, failure } = await outcome();
    assert.equal(done, undefined);
    assert.deepEqual(
      { name: failure?.name, status: failure?.status, code: failure?.code, typed: failure?.typed },
      { name: 'DirectUploadError', status: 413, code: 'file_too_large', typed: true },
    );
    assert.match(failure!.message, /./);
    assert.deepEqual(tusRequests('PATCH'), [], 'no byte was sent');
    assert.deepEqual(await readdir(staging), []);
    assert.deepEqual(await filesOnDisk(suite.harness, 'cache'), []);
    assert.deepEqual(await remembered(), []);
    await page.close();
  });

  it('rejects with the 415 of the last PATCH for a PDF named .png, and forgets the upload', async () => {
    await openPage(suite.harness.baseUrl);
    await start(pdf(), { entity: 'Photo', attachment: 'image' });
    const { done, failure } = await outcome();
    assert.equal(done, undefined);
    assert.deepEqual(
      { name: failure?.name, status: failure?.status, code: failure?.code, typed: failure?.typed },
      { name: 'DirectUploadError', status: 415, code: 'file_type_not_allowed', typed: true },
    );
    assert.equal(tusRequests('PATCH').length, 1, 'a refusal is not retried');
    assert.deepEqual(await readdir(staging), []);
    assert.deepEqual(await filesOnDisk(suite.harness, 'cache'), []);
    assert.deepEqual(await remembered(), []);
    await page.close();
  });

  it('on abort stops the PATCH in flight, DELETEs the upload and rejects with the reason', async () => {
    await openPage(suite.harness.baseUrl);
    const held: Route[] = [];
    let patching!: () => void;
    const patchSent = new Promise<void>((resolve) => (patching = resolve));
    await page.route('**/attachments/tus/*', (route: Route) => {
      if (route.request().method() !== 'PATCH') return route.continue();
      held.push(route); // never answered: the PATCH is in flight when the upload is aborted
      patching();
    });
    try {
      await start(noisyPng(300, 300), { entity: 'Dossier', attachment: 'report' });
      await patchSent;
      assert.equal((await readdir(staging)).length > 0, true, 'the upload was created');
      await page.evaluate(() => window.stop(new Error('The user changed their mind')));
      const { done, failure } = await outcome();
      assert.equal(done, undefined);
      assert.deepEqual(
        { name: failure?.name, message: failure?.message, typed: failure?.typed },
        { name: 'Error', message: 'The user changed their mind', typed: false },
      );
      const [deleted] = tusRequests('DELETE');
      assert.ok(deleted, 'the upload was deleted');
      assert.equal((await deleted.response())?.status(), 204);
      assert.equal(deleted.url(), tusRequests('PATCH')[0]!.url(), 'the very upload');
      await waitFor(
        async () => tusRequests('PATCH')[0]!.failure() !== null,
        'the PATCH to be cancelled',
      );
      assert.deepEqual(await readdir(staging), [], 'the server holds nothing of it');
      assert.deepEqual(await remembered(), []);
    } finally {
      await page.unroute('**/attachments/tus/*');
      for (const route of held) await route.abort().catch(() => undefined);
      await page.close();
    }
  });

  const RELOADED = { entity: 'Dossier', attachment: 'report', chunkSize: 512 * KiB };

  /**
   * In a new browser context, through a proxy that cuts the first PATCH, an upload of `bytes`
   * with no retries fails and is remembered; the page is closed, and `then` runs with the
   * context, the proxy and the upload's `Location`, as a page that reloads would.
   */
  async function afterACutUpload(
    bytes: Buffer,
    then: (context: BrowserContext, proxy: DroppingProxy, location: string) => Promise<void>,
  ) {
    const proxy = await startDroppingProxy(
      suite.harness.baseUrl,
      CUT_AT,
      untilStaged(staging, CUT_AT),
    );
    const context = await browser.newContext();
    try {
      await openPage(proxy.url, context);
      await start(bytes, { ...RELOADED, retryDelays: [] });
      const first = await outcome();
      await proxy.dropped;
      // No answer to the cut request, or a 409 to the copy Chromium may send again on its own.
      assert.equal(first.failure?.typed, true, JSON.stringify(first));
      assert.ok([0, 409].includes(first.failure.status!), JSON.stringify(first));
      assert.equal((await remembered()).length, 1, 'the unfinished upload is remembered');
      const location = (await tusRequests('POST')[0]!.response())!.headers()['location']!;
      await page.close();
      await then(context, proxy, location);
    } finally {
      await context.close();
      await proxy.close();
    }
  }

  /** A new page of the context calls again for the same file and succeeds; its answer. */
  async function uploadAgain(context: BrowserContext, origin: string, bytes: Buffer) {
    await openPage(origin, context);
    await start(bytes, { ...RELOADED, retryDelays: [0, 100, 500] });
    const { done, failure } = await outcome();
    assert.equal(failure, undefined, JSON.stringify(failure));
    assert.equal(done!.file.metadata.sha256, sha256(bytes));
    assert.deepEqual(await remembered(), [], 'a finished upload is forgotten');
    await assertStored(done!.token, bytes);
  }

  it('continues after a reload from where the server has the same file, without a new upload', async () => {
    const image = noisyPng(600, 600); // about 1 MiB
    await afterACutUpload(image, async (context, proxy, location) => {
      await uploadAgain(context, proxy.url, image);
      assert.deepEqual(tusRequests('POST'), [], 'no new upload was created');
      const [head] = tusRequests('HEAD');
      assert.equal(new URL(head!.url()).pathname, new URL(location, proxy.url).pathname);
      const seen = JSON.stringify(proxy.patches);
      const afterReload = proxy.patches.slice(1).filter((patch) => patch.status !== 409);
      const offset = (await headOffsets()).at(-1);
      assert.ok(offset! > 0 && offset! <= CUT_AT, `the server had ${offset}: ${seen}`);
      assert.equal(afterReload[0]?.offset, offset, `continued from there: ${seen}`);
      assertSentTheRest(afterReload, image.length, RELOADED.chunkSize);
      await page.close();
    });
  });

  it('starts anew when the server no longer has the upload a reloaded page remembers', async () => {
    const image = noisyPng(600, 600);
    await afterACutUpload(image, async (context, proxy, location) => {
      // The server ends it meanwhile (as when it expires): the remembered URL answers 404.
      const ended = await fetch(new URL(location, `${suite.harness.baseUrl}/attachments/tus/`), {
        method: 'DELETE',
        headers: { 'Tus-Resumable': '1.0.0' },
      });
      assert.equal(ended.status, 204);
      await uploadAgain(context, proxy.url, image);
      const heads = tusRequests('HEAD').map(async (head) => (await head.response())?.status());
      assert.deepEqual(await Promise.all(heads), [404]);
      assert.equal(tusRequests('POST').length, 1, 'a new upload');
      const [first] = tusRequests('PATCH');
      assert.equal(first!.headers()['upload-offset'], '0', 'from the first byte');
      assert.notEqual(new URL(first!.url()).pathname, new URL(location, proxy.url).pathname);
      await page.close();
    });
  });

  it('wires an input with data-direct-upload="tus": the hidden field gets the token', async () => {
    await openPage(suite.harness.baseUrl);
    await page.evaluate(async (url) => {
      const client = await import(url);
      document.body.innerHTML = `<form><input type="file" id="file" name="report"
        data-direct-upload="tus" data-entity="Dossier" data-attachment="report"></form>`;
      client.wireDirectUploads();
      const input = document.querySelector('#file');
      window.wired = new Promise((resolve) => {
        input.addEventListener('direct-upload:done', (event) =>
          resolve({ done: event.detail as Outcome['done'] }),
        );
        input.addEventListener('direct-upload:error', (event) =>
          resolve({ error: String(event.detail) }),
        );
      });
    }, CLIENT_URL);
    const image = noisyPng(300, 200);
    await page.setInputFiles('#file', { name: 'wired.png', mimeType: 'image/png', buffer: image });
    const { done, error } = await page.evaluate(() => window.wired);
    assert.equal(error, undefined);
    assert.equal(done!.file.metadata.sha256, sha256(image));
    const field = await page.evaluate(
      () => document.querySelector('input[type="hidden"][name="report"]').value,
    );
    assert.equal(field, done!.token);
    assert.equal(tusRequests('POST').length, 1, 'sent over tus');
    assert.equal(new URL(tusRequests('POST')[0]!.url()).pathname, '/attachments/tus');
    assert.ok(tusRequests('PATCH').length > 0);
    await assertStored(done!.token, image);
    await page.close();
  });
});
