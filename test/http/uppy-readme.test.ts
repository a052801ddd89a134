/**
 * README's Uppy 6 snippets, run as a user's page runs them: each file of readme-snippets/ holds
 * one README block verbatim (test/docs/readme.test.ts checks that), is bundled from the
 * installed packages by esbuild, and runs in Chromium against an app with an S3 cache. What the
 * snippet puts in the form is then attached, as README says, and stored with the same bytes.
 */
import '../support/harness.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Type } from '@nestjs/common';
import type { BrowserContext, Page } from 'playwright-core';
import type { Storage } from '../../src/index.js';
import { S3Storage } from '../../src/s3/index.js';
import { noisyPng } from '../sample/noisy-png.js';
import { Photo } from '../support/entities.js';
import { waitForIdle } from '../support/harness.js';
import { startS3rver, type TestS3Server } from '../support/s3rver.js';
import { useHarness } from '../support/suite.js';
import { bundlePageScript } from '../support/upload-clients.js';
import { ownerFromCookie, sha256, useBrowser, UppyPageController } from '../support/uppy-app.js';

// Run in Chromium; the tests compile without the DOM library, so the little used is declared.
declare const document: { body: { innerHTML: string }; forms: unknown[] };
declare const form: { elements: { image: { value: string } } };
declare const uppy: {
  addFile(file: { name: string; type: string; data: unknown }): string;
  upload(): Promise<{ failed?: { error?: string }[] } | undefined>;
};
declare const Blob: new (parts: unknown[], options: { type: string }) => unknown;

const SNIPPETS = [
  { name: 'AwsS3, one presigned POST', file: 'test/http/readme-snippets/uppy-aws-s3.js' },
  { name: 'XHRUpload', file: 'test/http/readme-snippets/uppy-xhr-upload.js' },
];

describe("README's Uppy 6 snippets, bundled and run in Chromium", () => {
  const browser = useBrowser();
  const storages: Record<string, Storage> = {};
  let s3: TestS3Server;
  before(async () => {
    s3 = await startS3rver({ cors: true });
    const client = s3.client();
    storages.cache = new S3Storage({ client, bucket: s3.bucket, prefix: 'cache/' });
    storages.store = new S3Storage({ client, bucket: s3.bucket, prefix: 'store/' });
  });
  const suite = useHarness('postgres', [Photo], {
    http: true,
    storages,
    controllers: [UppyPageController as Type],
    upload: { owner: ownerFromCookie },
  });
  let context: BrowserContext;
  before(async () => {
    context = await browser().newContext();
  });
  after(async () => {
    await context?.close();
    await s3?.stop();
  });

  /** A page with a form, README's snippet bundled into it, and one file given to its `uppy`. */
  async function runSnippet(file: string, image: Buffer): Promise<string> {
    const page: Page = await context.newPage();
    try {
      await context.addCookies([{ name: 'user', value: 'alice', url: suite.harness.baseUrl }]);
      await page.goto(`${suite.harness.baseUrl}/`);
      await page.evaluate(() => {
        document.body.innerHTML = '<form><input name="image"></form>';
        Object.assign(globalThis, { form: document.forms[0] });
      });
      await page.addScriptTag({ content: await bundlePageScript(file) });
      const failed = await page.evaluate(async (base64) => {
        const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
        uppy.addFile({
          name: 'sea.png',
          type: 'image/png',
          data: new Blob([bytes], { type: 'image/png' }),
        });
        const result = await uppy.upload();
        return (result?.failed ?? []).map((entry) => String(entry.error));
      }, image.toString('base64'));
      assert.deepEqual(failed, []);
      return await page.evaluate(() => form.elements.image.value);
    } finally {
      await page.close();
    }
  }

  for (const snippet of SNIPPETS) {
    it(`${snippet.name}: what the snippet puts in the form is attached and stored byte for byte`, async () => {
      const image = noisyPng(320, 240);
      const value = await runSnippet(snippet.file, image);
      assert.ok(value.length > 0, 'the snippet filled the form field');
      const photos = suite.db.dataSource.getRepository(Photo);
      const photo = photos.create({ title: snippet.name });
      await suite.harness.attachments.attach(photo, 'image', value, { owner: 'alice' });
      await photos.save(photo);
      await waitForIdle(suite.harness, suite.db.dataSource);
      const saved = await photos.findOneByOrFail({ id: photo.id });
      assert.equal(saved.image?.storage, 'store');
      const stored: Buffer[] = [];
      for await (const chunk of await storages.store!.open(saved.image!.id))
        stored.push(chunk as Buffer);
      assert.equal(sha256(Buffer.concat(stored)), sha256(image));
    });
  }
});
