import '../support/harness.js';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Browser, Page, Request, Route } from 'playwright-core';
import { S3Storage } from '../../src/s3/index.js';
import { launchBrowser } from '../support/browser.js';
import { Dossier, Photo } from '../support/entities.js';
import { waitFor, waitForIdle } from '../support/harness.js';
import { startS3rver, type TestS3Server } from '../support/s3rver.js';
import { useHarness } from '../support/suite.js';
import { keysUnder } from '../sample/s3-sample.js';

// The callbacks given to page.evaluate() run in Chromium; the tests compile without the DOM
// library, so the little they use is declared.
interface InPageInput {
  type: string;
  id: string;
  files: Blob[];
}
interface Outcome {
  done?: { token: string; key: string; url?: string };
  failure?: { name: string; message: string; status?: number; code?: string; typed: boolean };
  progress: { loaded: number; total: number; percent: number }[];
}
declare const document: {
  createElement(tag: 'input'): InPageInput;
  body: { append(element: InPageInput): void };
  querySelector(selector: string): InPageInput;
};
declare const window: { upload: Promise<Outcome>; stop: (reason: unknown) => void };
declare const AbortController: new () => { signal: unknown; abort(reason: unknown): void };
declare const Blob: new (parts: string[]) => Blob;

const MiB = 1024 * 1024;
const CLIENT_URL = '/attachments/client.js';
/** Three parts of the default (and S3's smallest) part size: 5 MiB, 5 MiB and the rest. */
const FILE_SIZE = 12 * MiB + 12_345;

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** The part number of a request to the bucket, when it sends a part. */
function partOf(request: Request): number | undefined {
  const number = new URL(request.url()).searchParams.get('partNumber');
  return request.method() === 'PUT' && number ? Number(number) : undefined;
}

describe('uploadFileToStorage() in Chromium sends a large file to S3 (s3rver) in parts', () => {
  let s3: TestS3Server;
  let s3Client: S3Client;
  const storages: Record<string, S3Storage> = {};
  before(async () => {
    s3 = await startS3rver({ cors: true });
    s3Client = s3.client();
    storages.cache = new S3Storage({ client: s3Client, bucket: s3.bucket, prefix: 'cache/' });
    storages.store = new S3Storage({ client: s3Client, bucket: s3.bucket, prefix: 'store/' });
  });
  after(async () => s3?.stop());
  const suite = useHarness('sqlite', [Dossier, Photo], { http: true, storages });

  let browser: Browser;
  let page: Page;
  /** Every request the page sent since the last `upload()`. */
  const sent: Request[] = [];
  const pageErrors: Error[] = [];

  before(async () => {
    browser = await launchBrowser();
    page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(error));
    page.on('request', (request) => sent.push(request));
    // Any page of the app's origin can import the client; this one is the client itself.
    await page.goto(`${suite.harness.baseUrl}${CLIENT_URL}`);
  });
  after(async () => {
    await browser?.close();
    assert.deepEqual(pageErrors, []);
  });

  /** The requests to the app's storage-upload routes. */
  const toApp = () =>
    sent.filter((request) => request.url().startsWith(`${suite.harness.baseUrl}/attachments/s3/`));
  const partRequests = (number?: number) =>
    sent.filter(
      (request) => partOf(request) !== undefined && (!number || partOf(request) === number),
    );
  const deletes = () => toApp().filter((request) => request.method() === 'DELETE');

  /**
   * Puts `bytes` in a file input of the page as `big.bin`, starts `uploadFileToStorage()` on it
   * with a 5 MiB threshold, and resolves once it started; `window.upload` settles with the result,
   * and `window.stop(reason)` aborts it.
   */
  async function upload(bytes: Buffer, options: Record<string, unknown> = {}): Promise<void> {
    sent.splice(0);
    await page.evaluate(() => {
      if (document.querySelector('#file')) return;
      const input = document.createElement('input');
      input.type = 'file';
      input.id = 'file';
      document.body.append(input);
    });
    await page.setInputFiles('#file', {
      name: 'big.bin',
      mimeType: 'application/octet-stream',
      buffer: bytes,
    });
    await page.evaluate(
      async ({ url, options }) => {
        const client = await import(url);
        const controller = new AbortController();
        window.stop = (reason) => controller.abort(reason);
        const progress: Outcome['progress'] = [];
        window.upload = client
          .uploadFileToStorage(document.querySelector('#file').files[0], {
            entity: 'Dossier',
            attachment: 'report',
            multipartThreshold: 5 * 1024 * 1024,
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
      { url: CLIENT_URL, options },
    );
  }

  const outcome = () => page.evaluate(() => window.upload);

  async function objectBytes(key: string): Promise<Buffer> {
    const object = await s3Client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    return Buffer.from(await object.Body!.transformToByteArray());
  }

  /** Neither an object nor a multipart upload is left in the cache. */
  async function nothingLeft() {
    assert.deepEqual(await s3.openUploads(), []);
    assert.deepEqual(await keysUnder(s3Client, s3.bucket, 'cache/'), []);
  }

  it('uploads 3 parts in parallel with progress, and the attached file is the very bytes', async () => {
    const bytes = randomBytes(FILE_SIZE);
    await upload(bytes);
    const { done, failure, progress } = await outcome();
    assert.equal(failure, undefined, JSON.stringify(failure));
    assert.match(done!.token, /^v1\./);
    // The key names the cached file, as the single upload's does; the URL is the object's.
    assert.match(done!.key, /[0-9a-f-]{36}\.bin$/);
    assert.equal((await storages.cache!.stat(done!.key))?.size, FILE_SIZE);
    const objectUrl = new URL(done!.url!);
    assert.equal(objectUrl.origin + objectUrl.search, s3.endpoint);
    assert.equal(decodeURIComponent(objectUrl.pathname), `/${s3.bucket}/cache/${done!.key}`);

    const target = {
      filename: 'big.bin',
      type: 'application/octet-stream',
      entity: 'Dossier',
      attachment: 'report',
    };
    const app = toApp().map((request) => `${request.method()} ${new URL(request.url()).pathname}`);
    const [create, ...rest] = toApp();
    assert.equal(app[0], 'POST /attachments/s3/multipart');
    assert.deepEqual(create!.postDataJSON(), target);
    const { uploadId, key } = (await (await create!.response())!.json()) as Record<string, string>;
    const route = `/attachments/s3/multipart/${encodeURIComponent(uploadId!)}`;
    assert.deepEqual(app.slice(1).sort(), [
      `GET ${route}/1`,
      `GET ${route}/2`,
      `GET ${route}/3`,
      `POST ${route}/complete`,
    ]);
    for (const request of rest) assert.equal(new URL(request.url()).searchParams.get('key'), key);
    const complete = rest.find((request) => request.method() === 'POST')!;
    const { parts, ...described } = complete.postDataJSON() as {
      parts: { PartNumber: number; ETag: string }[];
    };
    assert.deepEqual(described, target, 'complete is told the same target as create');
    assert.deepEqual(
      parts.map((part) => part.PartNumber),
      [1, 2, 3],
    );
    assert.ok(
      parts.every((part) => /^"[0-9a-f]{32}"$/.test(part.ETag)),
      JSON.stringify(parts),
    );
    assert.deepEqual(
      partRequests()
        .map(partOf)
        .sort((a, b) => a! - b!),
      [1, 2, 3],
      'one PUT per part',
    );

    // At least one event per part: each part reports its last byte, whatever Chromium's pace.
    assert.ok(progress.length >= 3, `${progress.length} progress events`);
    assert.ok(progress.every((event) => event.total === FILE_SIZE));
    const loaded = progress.map((event) => event.loaded);
    assert.deepEqual(
      loaded,
      [...loaded].sort((a, b) => a - b),
      'progress never goes back',
    );
    assert.deepEqual(progress.at(-1), { loaded: FILE_SIZE, total: FILE_SIZE, percent: 100 });

    const repository = suite.db.dataSource.getRepository(Dossier);
    const dossier = repository.create();
    await suite.harness.attachments.attach(dossier, 'report', done!.token);
    await repository.save(dossier);
    await waitForIdle(suite.harness, suite.db.dataSource);
    const saved = await repository.findOneByOrFail({ id: dossier.id });
    assert.equal(saved.report?.storage, 'store');
    assert.equal(saved.report?.metadata.size, FILE_SIZE);
    assert.equal(sha256(await objectBytes(`store/${saved.report!.id}`)), sha256(bytes));
    assert.deepEqual(await s3.openUploads(), []);
  });

  it('retries a part whose request failed and one whose URL expired, each signed anew', async () => {
    const bytes = randomBytes(FILE_SIZE);
    const seen = new Map<number, number>();
    await page.route(`${s3.endpoint}/**`, async (route: Route) => {
      const part = partOf(route.request());
      const attempt = part ? (seen.get(part) ?? 0) + 1 : 0;
      if (part) seen.set(part, attempt);
      if (part === 2 && attempt === 1) return route.abort('failed');
      if (part === 3 && attempt === 1) {
        // Signed two hours ago for one: s3rver answers 403 "Request has expired", as S3 does.
        const url = new URL(route.request().url());
        const then = new Date(Date.now() - 2 * 3600_000).toISOString().replace(/[-:]|\.\d+/g, '');
        url.searchParams.set('X-Amz-Date', then);
        return route.continue({ url: url.href });
      }
      return route.continue();
    });
    try {
      await upload(bytes, { retryDelays: [10, 10] });
      const { done, failure } = await outcome();
      assert.equal(failure, undefined, JSON.stringify(failure));
      assert.deepEqual(
        Object.fromEntries(seen),
        { 1: 1, 2: 2, 3: 2 },
        'parts 2 and 3 were sent twice',
      );
      const expired = await partRequests(3)[0]!.response();
      assert.equal(expired?.status(), 403);
      assert.match(await expired!.text(), /Request has expired/);
      const signs = toApp().filter((request) => request.method() === 'GET');
      assert.equal(signs.length, 5, 'every attempt got its own signature');
      assert.equal(sha256(await objectBytes(`cache/${done!.key}`)), sha256(bytes));
      await storages.cache!.delete(done!.key);
      await nothingLeft();
    } finally {
      await page.unroute(`${s3.endpoint}/**`);
    }
  });

  it('aborts the multipart upload when a part fails every time, and rejects with DirectUploadError', async () => {
    const bytes = randomBytes(FILE_SIZE);
    await page.route(`${s3.endpoint}/**`, (route: Route) =>
      partOf(route.request()) === 2 ? route.abort('failed') : route.continue(),
    );
    try {
      await upload(bytes, { retryDelays: [10, 10] });
      const { done, failure } = await outcome();
      assert.equal(done, undefined);
      assert.deepEqual(failure, {
        name: 'DirectUploadError',
        message:
          'The upload could not reach the storage (does the bucket allow this origin in its CORS rules?)',
        status: 0,
        code: 'network_error',
        typed: true,
      });
      assert.equal(partRequests(2).length, 3, 'the first attempt and two retries');
      assert.equal(deletes().length, 1);
      assert.equal((await deletes()[0]!.response())?.status(), 200);
      assert.equal(
        toApp().filter((request) => request.url().includes('/complete')).length,
        0,
        'never completed',
      );
      await nothingLeft();
    } finally {
      await page.unroute(`${s3.endpoint}/**`);
    }
  });

  it('does not retry a part the storage refuses, and aborts the multipart upload', async () => {
    const bytes = randomBytes(FILE_SIZE);
    await page.route(`${s3.endpoint}/**`, (route: Route) => {
      if (partOf(route.request()) !== 1) return route.continue();
      // s3rver checks the access key of a V4 signature (not the signature itself).
      const url = new URL(route.request().url());
      const credential = url.searchParams.get('X-Amz-Credential')!;
      url.searchParams.set('X-Amz-Credential', credential.replace(/^[^/]+/, 'NOBODY'));
      return route.continue({ url: url.href });
    });
    try {
      await upload(bytes, { retryDelays: [10, 10] });
      const { failure } = await outcome();
      assert.deepEqual(
        { name: failure?.name, status: failure?.status, code: failure?.code },
        { name: 'DirectUploadError', status: 403, code: 'InvalidAccessKeyId' },
      );
      assert.equal(partRequests(1).length, 1, 'a 403 other than an expiry is not retried');
      assert.equal(deletes().length, 1);
      await nothingLeft();
    } finally {
      await page.unroute(`${s3.endpoint}/**`);
    }
  });

  it("rejects with the app's refusal at completion, and keeps nothing", async () => {
    // Photo's image takes images of at most 1 MiB: the app measures the joined object.
    await upload(randomBytes(FILE_SIZE), { entity: 'Photo', attachment: 'image' });
    const { failure } = await outcome();
    assert.deepEqual(
      { name: failure?.name, status: failure?.status, code: failure?.code, typed: failure?.typed },
      { name: 'DirectUploadError', status: 413, code: 'file_too_large', typed: true },
    );
    const complete = toApp().find((request) => request.url().includes('/complete'))!;
    assert.deepEqual(
      (complete.postDataJSON() as { entity: string; attachment: string }).entity,
      'Photo',
    );
    assert.equal(deletes().length, 0, 'the app deleted the joined object: nothing to abort');
    await nothingLeft();
  });

  it('aborted while the app creates the upload, deletes that upload once the app answers', async () => {
    const createRoute = `${suite.harness.baseUrl}/attachments/s3/multipart`;
    let held: Route | undefined;
    let creating!: () => void;
    const createSent = new Promise<void>((resolve) => (creating = resolve));
    await page.route(createRoute, (route: Route) => {
      held = route;
      creating();
    });
    try {
      await upload(randomBytes(FILE_SIZE));
      await createSent;
      await page.evaluate(() => window.stop(new Error('Cancelled before it started')));
      const { failure } = await outcome();
      assert.equal(failure?.message, 'Cancelled before it started');
      assert.deepEqual(await s3.openUploads(), [], 'the app was not asked yet');

      await held!.continue();
      const deleted = await waitFor(async () => deletes()[0], 'the created upload to be deleted');
      assert.equal((await deleted.response())?.status(), 200);
      assert.deepEqual(partRequests(), [], 'no part was sent');
      await nothingLeft();
    } finally {
      await page.unroute(createRoute);
    }
  });

  it('grows the parts of a huge file so that it fits in 10,000 parts', async () => {
    sent.splice(0);
    const size = 60 * 1024 ** 3; // 5 MiB parts would make 12,288
    const slices = await page.evaluate(
      async ({ url, size }) => {
        const client = await import(url);
        const controller = new AbortController();
        const slices: number[][] = [];
        // A file of that size cannot be made in a test: this one tells how it is sliced, and
        // stops the upload at its first part.
        const file = {
          size,
          type: 'application/octet-stream',
          slice(start: number, end: number) {
            slices.push([start, end]);
            controller.abort(new Error('Seen enough'));
            return new Blob(['x']);
          },
        };
        const options = { entity: 'Dossier', attachment: 'report', signal: controller.signal };
        await client.uploadFileToStorage(file, options).catch(() => undefined);
        return slices;
      },
      { url: CLIENT_URL, size },
    );
    assert.deepEqual(slices[0], [0, Math.ceil(size / 10_000)]);
    assert.equal(deletes().length, 1);
    await nothingLeft();
  });

  it('stops the parts in flight on abort, deletes the multipart upload, and rejects with the reason', async () => {
    const bytes = randomBytes(FILE_SIZE);
    const held: Route[] = [];
    let firstPart!: () => void;
    const partArrived = new Promise<void>((resolve) => (firstPart = resolve));
    await page.route(`${s3.endpoint}/**`, (route: Route) => {
      if (partOf(route.request()) === undefined) return route.continue();
      held.push(route); // never answered: the parts are in flight when the upload is aborted
      firstPart();
    });
    try {
      await upload(bytes);
      await partArrived;
      await page.evaluate(() => window.stop(new Error('The user left the page')));
      const { done, failure } = await outcome();
      assert.equal(done, undefined);
      assert.deepEqual(
        { name: failure?.name, message: failure?.message, typed: failure?.typed },
        { name: 'Error', message: 'The user left the page', typed: false },
      );
      const [deleted] = deletes();
      assert.ok(deleted, 'the multipart upload was deleted');
      assert.equal((await deleted.response())?.status(), 200);
      await waitFor(
        async () => partRequests().every((request) => request.failure() !== null),
        'every part request to be cancelled',
      );
      await nothingLeft();
    } finally {
      await page.unroute(`${s3.endpoint}/**`);
      for (const route of held) await route.abort().catch(() => undefined);
    }
  });
});
