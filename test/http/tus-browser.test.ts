import '../support/harness.js';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { launchBrowser } from '../support/browser.js';
import { assertResumedOnce, startDroppingProxy, untilStaged } from '../support/dropping-proxy.js';
import { Photo } from '../support/entities.js';
import { pdf } from '../support/fixtures.js';
import { waitForIdle, type Harness } from '../support/harness.js';
import { useHarness } from '../support/suite.js';
import { addUploadClients, uploadClientVersions } from '../support/upload-clients.js';

// The callbacks given to page.evaluate() run in Chromium, where the bundle of the real clients
// is `UploadClients`. The tests compile without the DOM library, so the little they use is
// declared here.
interface XhrBody {
  xhr: { responseText: string };
}
interface InPageUppy {
  use(plugin: unknown, options: Record<string, unknown>): InPageUppy;
  addFile(file: { name: string; type: string; data: Blob }): string;
  on(event: 'upload-success', handler: (file: unknown, response: { body: XhrBody }) => void): void;
  on(
    event: 'upload-error',
    handler: (file: unknown, error: Error, response?: { status: number; body: XhrBody }) => void,
  ): void;
  upload(): Promise<unknown>;
}
declare const UploadClients: {
  Uppy: new (options?: Record<string, unknown>) => InPageUppy;
  Tus: unknown;
  tus: typeof import('tus-js-client');
};
declare const location: { origin: string };

const KiB = 1024;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** A real PNG photo of noise, which does not compress: about 3 bytes a pixel. */
function photo(width: number, height: number): Promise<Buffer> {
  return sharp({
    create: {
      width,
      height,
      channels: 3,
      background: '#808080',
      noise: { type: 'gaussian', mean: 128, sigma: 40 },
    },
  })
    .png()
    .toBuffer();
}

interface UppyOutcome {
  tokens: string[];
  refusals: { status: number | undefined; body: string | undefined }[];
}

describe(`tus uploads from Chromium (${uploadClientVersions().join(', ')})`, () => {
  const staging = mkdtempSync(join(tmpdir(), 'attachments-tus-'));
  const suite = useHarness('postgres', [Photo], {
    http: true,
    upload: { tus: { directory: staging } },
  });
  let harness: Harness;
  let browser: Browser;
  let page: Page;

  before(async () => {
    harness = suite.harness;
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await rm(staging, { recursive: true, force: true });
  });

  /** A blank page at `origin` with the real clients on it. */
  async function openPage(origin: string): Promise<Page> {
    page = await browser.newPage();
    await page.route(`${origin}/page`, (route) =>
      route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>tus</title>' }),
    );
    await page.goto(`${origin}/page`);
    await addUploadClients(page);
    return page;
  }

  /** Uppy 6 with its Tus plugin uploads one file, as the README shows. */
  function uppyUpload(name: string, type: string, data: Buffer): Promise<UppyOutcome> {
    return page.evaluate(
      async ({ name, type, base64 }) => {
        const { Uppy, Tus } = UploadClients;
        const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
        const tokens: string[] = [];
        const refusals: UppyOutcome['refusals'] = [];
        const uppy = new Uppy({ meta: { entity: 'Photo', attachment: 'image' } });
        uppy.use(Tus, { endpoint: `${location.origin}/attachments/tus` });
        uppy.on('upload-success', (_file, response) => {
          // The app's answer to the last request: {token, file, url}.
          const { token } = JSON.parse(response.body.xhr.responseText) as { token: string };
          tokens.push(token);
        });
        uppy.on('upload-error', (_file, _error, response) => {
          refusals.push({ status: response?.status, body: response?.body.xhr.responseText });
        });
        uppy.addFile({ name, type, data: new Blob([bytes], { type }) });
        await uppy.upload();
        return { tokens, refusals };
      },
      { name, type, base64: data.toString('base64') },
    );
  }

  it('Uppy Tus uploads a photo; the app attaches its token and stores the same bytes', async () => {
    await openPage(harness.baseUrl);
    const image = await photo(200, 150);
    const { tokens, refusals } = await uppyUpload('holiday.png', 'image/png', image);
    assert.deepEqual(refusals, []);
    assert.equal(tokens.length, 1);
    const photos = suite.db.dataSource.getRepository(Photo);
    const record = photos.create({ title: 'from Uppy' });
    await harness.attachments.attach(record, 'image', tokens[0]!);
    await photos.save(record);
    await waitForIdle(harness, suite.db.dataSource);
    const saved = await photos.findOneByOrFail({ id: record.id });
    assert.equal(saved.image?.storage, 'store');
    assert.equal(saved.image?.metadata.sha256, sha256(image));
    assert.deepEqual([saved.image?.metadata.width, saved.image?.metadata.height], [200, 150]);
    const chunks: Buffer[] = [];
    for await (const chunk of await harness.storages.store!.open(saved.image!.id))
      chunks.push(chunk as Buffer);
    assert.equal(sha256(Buffer.concat(chunks)), sha256(image));
    await page.close();
  });

  it('Uppy reads the 413 of a photo over maxSize and the 415 of a PDF', async () => {
    await openPage(harness.baseUrl);
    const big = await uppyUpload('big.png', 'image/png', await photo(700, 600));
    assert.deepEqual(big.tokens, []);
    assert.equal(big.refusals[0]?.status, 413);
    assert.equal((JSON.parse(big.refusals[0]!.body!) as { code: string }).code, 'file_too_large');
    const wrong = await uppyUpload('invoice.png', 'image/png', pdf());
    assert.deepEqual(wrong.tokens, []);
    assert.equal(wrong.refusals[0]?.status, 415);
    assert.equal(
      (JSON.parse(wrong.refusals[0]!.body!) as { code: string }).code,
      'file_type_not_allowed',
    );
    assert.deepEqual(await readdir(staging), [], 'nothing is left of either');
    await page.close();
  });

  it('tus-js-client in Chromium resumes after the connection drops mid-upload', async () => {
    const proxy = await startDroppingProxy(
      harness.baseUrl,
      64 * KiB,
      untilStaged(staging, 64 * KiB),
    );
    try {
      await openPage(proxy.url);
      const image = await photo(250, 250);
      const body = await page.evaluate(async (base64) => {
        const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
        const file = new File([bytes], 'resumed.png', { type: 'image/png' });
        const { Upload } = UploadClients.tus;
        return new Promise<string>((resolve, reject) => {
          const upload = new Upload(file, {
            endpoint: `${location.origin}/attachments/tus`,
            metadata: { entity: 'Photo', attachment: 'image', filename: file.name },
            retryDelays: [0, 1000, 3000],
            // The app's answer to the last request: {token, file, url}.
            onSuccess: ({ lastResponse }) => resolve(lastResponse.getBody()),
            onError: reject,
          });
          upload.start();
        });
      }, image.toString('base64'));
      await proxy.dropped;
      assertResumedOnce(proxy.patches, 64 * KiB, image.length);
      const answer = JSON.parse(body) as { file: { metadata: { sha256: string } } };
      assert.equal(answer.file.metadata.sha256, sha256(image));
      await page.close();
    } finally {
      await proxy.close();
    }
  });
});
