import '../support/harness.js';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Entity, PrimaryGeneratedColumn } from 'typeorm';
import {
  Attachment,
  ImageDimensionsError,
  type UploadedFile,
  type UploadResponse,
} from '../../src/index.js';
import type { DirectUploadParams } from '../../src/http/direct-upload.service.js';
import { png } from '../support/fixtures.js';
import { filesOnDisk, listFiles, type Harness } from '../support/harness.js';
import { multipart } from '../support/http-client.js';
import { PLATFORMS } from '../support/platforms.js';
import { useS3Storages } from '../support/s3rver.js';
import { useHarness } from '../support/suite.js';
import { tusRefusal, tusUpload } from '../support/tus-client.js';

@Entity()
class Banner {
  @PrimaryGeneratedColumn()
  id!: number;

  @Attachment({
    allowedTypes: ['image/*'],
    minWidth: 20,
    maxWidth: 40,
    minHeight: 10,
    maxHeight: 30,
  })
  image!: UploadedFile | null;
}

/** An image that breaks each rule of Banner.image by one pixel, and what the refusal says. */
const BREAKING = [
  {
    rule: 'minWidth',
    image: png(19, 20),
    message: 'Image is 19x20; this attachment needs a width of at least 20 px',
  },
  {
    rule: 'maxWidth',
    image: png(41, 20),
    message: 'Image is 41x20; this attachment needs a width of at most 40 px',
  },
  {
    rule: 'minHeight',
    image: png(30, 9),
    message: 'Image is 30x9; this attachment needs a height of at least 10 px',
  },
  {
    rule: 'maxHeight',
    image: png(30, 31),
    message: 'Image is 30x31; this attachment needs a height of at most 30 px',
  },
];

for (const platform of PLATFORMS) {
  describe(`dimension rules at upload, over HTTP on ${platform}`, () => {
    const staging = mkdtempSync(join(tmpdir(), 'attachments-tus-'));
    const suite = useHarness('sqlite', [Banner], {
      http: true,
      platform,
      worker: false,
      upload: { tus: { directory: staging } },
    });
    let harness: Harness;
    before(() => (harness = suite.harness));
    after(() => rm(staging, { recursive: true, force: true }));

    async function upload(image: Buffer): Promise<Response> {
      const { body, contentType } = multipart([{ name: 'file', filename: 'b.png', data: image }]);
      return fetch(`${harness.baseUrl}/attachments/upload?entity=Banner&attachment=image`, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body,
      });
    }

    async function assertServing(): Promise<void> {
      const answer = await upload(png(20, 10));
      assert.equal(answer.status, 201, 'an image within the rules, at their edges, is taken');
      const { file } = (await answer.json()) as UploadResponse;
      assert.deepEqual([file.metadata.width, file.metadata.height], [20, 10]);
      await harness.storages.cache!.delete(file.id);
    }

    for (const { rule, image, message } of BREAKING) {
      it(`answers 422 to an image that breaks ${rule}, keeping nothing`, async () => {
        const answer = await upload(image);
        assert.equal(answer.status, 422);
        assert.deepEqual(await answer.json(), {
          statusCode: 422,
          code: 'image_dimensions',
          message,
        });
        assert.deepEqual(await filesOnDisk(harness, 'cache'), [], 'the refused file is deleted');
        await assertServing();
      });
    }

    it('refuses each of them at the end of a tus upload, keeping nothing', async () => {
      const endpoint = `${harness.baseUrl}/attachments/tus`;
      const metadata = { entity: 'Banner', attachment: 'image', filename: 'b.png' };
      for (const { rule, image, message } of BREAKING) {
        const refusal = await tusRefusal(endpoint, image, { metadata });
        assert.equal(refusal.status, 422, rule);
        assert.deepEqual(refusal.json, { statusCode: 422, code: 'image_dimensions', message });
        assert.deepEqual(await filesOnDisk(harness, 'cache'), [], rule);
      }
      const taken = await tusUpload(endpoint, png(40, 30), { metadata });
      assert.deepEqual(
        [taken.answer.file.metadata.width, taken.answer.file.metadata.height],
        [40, 30],
      );
      await harness.storages.cache!.delete(taken.answer.file.id);
    });
  });
}

describe('dimension rules of a direct upload to S3 (s3rver), checked when it is attached', () => {
  const s3 = useS3Storages();
  const suite = useHarness('sqlite', [Banner], {
    http: true,
    worker: false,
    storages: s3.storages,
  });

  it('refuses, at attach, an image that breaks each rule, and deletes the object', async () => {
    const { harness } = suite;
    const banners = suite.db.dataSource.getRepository(Banner);
    for (const { rule, image, message } of BREAKING) {
      const params = await fetch(
        `${harness.baseUrl}/attachments/s3/params?filename=b.png&type=image/png&method=PUT` +
          '&entity=Banner&attachment=image',
      );
      const upload = (await params.json()) as DirectUploadParams;
      const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: image });
      assert.ok(put.ok, `PUT answered ${put.status}`);
      const banner = banners.create();
      await assert.rejects(
        harness.attachments.attach(banner, 'image', upload.token),
        (error: unknown) =>
          error instanceof ImageDimensionsError && error.rule === rule && error.message === message,
      );
      assert.deepEqual(await listFiles(s3.storages.cache!), [], rule);
    }
  });
});
