import '../support/harness.js';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Attachment, type UploadedFile, type UploadResponse } from '../../src/index.js';
import { photo, pngBomb } from '../derivatives/images.js';
import { png } from '../support/fixtures.js';
import { fetchUpload } from '../support/fetch-upload-process.js';
import { filesOnDisk, type Harness } from '../support/harness.js';
import { multipart, multipartHead, rawRequest, type Part } from '../support/http-client.js';
import { PLATFORMS } from '../support/platforms.js';
import { useHarness } from '../support/suite.js';

@Entity()
class Scan {
  @PrimaryGeneratedColumn()
  id!: number;

  /** Images of any size up to the module's cap (100 MiB), so a bomb is judged by its pixels. */
  @Attachment({ allowedTypes: ['image/*'] })
  page!: UploadedFile | null;

  @Attachment({ allowEmpty: true })
  note!: UploadedFile | null;

  @Attachment({ allowedTypes: ['image/*'], maxPixels: 100 * 100 })
  stamp!: UploadedFile | null;
}

/** A 1.2 MB PNG that declares 20000 × 20000 pixels: built once for both platforms. */
const bomb = pngBomb(20000, 20000, 9);
const html = Buffer.from('<!doctype html><html><body><script>alert(1)</script></body></html>\n');
const named = (attachment: string) => `?entity=Scan&attachment=${attachment}`;

for (const platform of PLATFORMS) {
  describe(`uploads on ${platform} are held to a declared attachment's rules`, () => {
    const suite = useHarness('postgres', [Scan], { http: true, platform });
    let harness: Harness;
    const images: Record<string, Buffer> = {};
    before(async () => {
      harness = suite.harness;
      images.bomb = await bomb;
      images.gif = await photo(40, 30).gif().toBuffer();
      images.jpeg = await photo(40, 30).jpeg().toBuffer();
      images.webp = await photo(40, 30).webp().toBuffer();
    });

    function post(parts: Part[], query = '') {
      const { body, contentType } = multipart(parts);
      return rawRequest(`${harness.baseUrl}/attachments/upload${query}`, {
        headers: { 'content-type': contentType, 'content-length': body.length },
        body,
      });
    }
    const file = (data: Buffer, filename = 'upload.png'): Part => ({
      name: 'file',
      filename,
      data,
    });

    /** The refusal is a JSON answer with its code; nothing of the file stays; the next works. */
    async function refused(
      answer: Awaited<ReturnType<typeof post>>,
      status: number,
      code: string,
      message: RegExp,
    ) {
      assert.ok(answer, 'the server answered');
      assert.equal(answer.status, status, answer.body.toString());
      assert.deepEqual(
        { statusCode: answer.json?.statusCode, code: answer.json?.code },
        { statusCode: status, code },
      );
      assert.match(String(answer.json?.message), message);
      assert.deepEqual(await filesOnDisk(harness, 'cache'), [], 'no file, partial or whole');
      const next = await post([file(png(3, 3))], named('page'));
      assert.equal(next?.status, 201, 'the server keeps serving');
      const { file: kept } = next!.json as unknown as UploadResponse;
      await harness.storages.cache!.delete(kept.id);
    }

    it('refuses an upload that names no attachment, and says how to name one', async () => {
      const message = /\?entity=Photo&attachment=image.*form fields.*upload\.unnamed/s;
      await refused(await post([file(png(4, 4))]), 400, 'attachment_required', message);
      // A script named .png is not cached either: nothing gets a token without rules.
      await refused(await post([file(html, 'run.png')]), 400, 'attachment_required', message);
      // Fields other than the attachment's name do not count.
      await refused(
        await post([{ name: 'title', data: 'x' }, file(png(4, 4))]),
        400,
        'attachment_required',
        message,
      );
    });

    it('answers that refusal to fetch while the rest of the body is still coming', async () => {
      const { head, tail, contentType } = multipartHead('big.png');
      const outcome = await fetchUpload({
        url: `${harness.baseUrl}/attachments/upload`,
        contentType,
        body: [head.toString('base64'), 32 * 1024 * 1024, tail.toString('base64')],
        contentLength: false,
      });
      assert.ok('status' in outcome, `fetch read no answer: ${JSON.stringify(outcome)}`);
      assert.equal(outcome.status, 400);
      assert.equal(outcome.body.code, 'attachment_required');
      assert.deepEqual(await filesOnDisk(harness, 'cache'), []);
    });

    it('accepts the attachment named in the query or in fields before the file', async () => {
      for (const answer of [
        await post([file(png(5, 5))], named('page')),
        await post([
          { name: 'entity', data: 'Scan' },
          { name: 'attachment', data: 'page' },
          file(png(5, 5)),
        ]),
      ]) {
        assert.equal(answer?.status, 201, answer?.body.toString());
        const { file: cached } = answer!.json as unknown as UploadResponse;
        await harness.storages.cache!.delete(cached.id);
      }
    });

    it('refuses an empty file unless the attachment allows it', async () => {
      await refused(
        await post([file(Buffer.alloc(0))], named('page')),
        422,
        'empty_file',
        /empty.*allowEmpty/,
      );
      const answer = await post([file(Buffer.alloc(0), 'empty.txt')], named('note'));
      assert.equal(answer?.status, 201, answer?.body.toString());
      const { file: cached } = answer!.json as unknown as UploadResponse;
      assert.equal(cached.metadata.size, 0);
      await harness.storages.cache!.delete(cached.id);
    });

    it('refuses a decompression bomb by the pixels its header declares', async () => {
      assert.ok(images.bomb!.length > 1_000_000, `a ${images.bomb!.length}-byte PNG`);
      await refused(
        await post([file(images.bomb!)], named('page')),
        422,
        'image_too_large',
        /20000x20000 = 400,000,000 pixels, more than the limit of 100,000,000/,
      );
      // The attachment's own limit replaces the module's.
      await refused(
        await post([file(png(200, 100))], named('stamp')),
        422,
        'image_too_large',
        /200x100 = 20,000 pixels, more than the limit of 10,000/,
      );
    });

    it('refuses a file whose first bytes look like an image but the rest does not', async () => {
      const whole = png(20, 20);
      const cases: [string, Buffer][] = [
        ['a PNG header, then an HTML page', Buffer.concat([whole.subarray(0, 33), html])],
        ['a PNG, then an HTML page', Buffer.concat([whole, html])],
        ['a truncated GIF', images.gif!.subarray(0, -1)],
        ['a truncated JPEG', images.jpeg!.subarray(0, images.jpeg!.length - 40)],
        ['a WebP with bytes after it', Buffer.concat([images.webp!, html])],
      ];
      for (const [what, data] of cases) {
        await refused(
          await post([file(data)], named('page')),
          422,
          'malformed_image',
          /is not a whole one/,
        ).catch((error: Error) => assert.fail(`${what}: ${error.message}`));
      }
      for (const data of [whole, images.gif!, images.jpeg!, images.webp!]) {
        const answer = await post([file(data)], named('page'));
        assert.equal(answer?.status, 201, answer?.body.toString());
        const { file: cached } = answer!.json as unknown as UploadResponse;
        await harness.storages.cache!.delete(cached.id);
      }
    });
  });

  describe(`uploads on ${platform} that name no attachment, where the app opts in`, () => {
    const suite = useHarness('postgres', [Scan], {
      http: true,
      platform,
      upload: { unnamed: { allowedTypes: ['image/*'], maxSize: 64 * 1024 } },
    });

    function post(data: Buffer) {
      const { body, contentType } = multipart([{ name: 'file', filename: 'a.png', data }]);
      return rawRequest(`${suite.harness.baseUrl}/attachments/upload`, {
        headers: { 'content-type': contentType, 'content-length': body.length },
        body,
      });
    }

    it('holds them to upload.unnamed: types, size, emptiness and structure', async () => {
      const accepted = await post(png(6, 6));
      assert.equal(accepted?.status, 201, accepted?.body.toString());
      const { file: cached } = accepted!.json as unknown as UploadResponse;
      await suite.harness.storages.cache!.delete(cached.id);
      const refusals: [Buffer, number, string][] = [
        [html, 415, 'file_type_not_allowed'],
        [Buffer.alloc(0), 422, 'empty_file'],
        [Buffer.concat([png(6, 6), html]), 422, 'malformed_image'],
        [await photo(400, 400).png().toBuffer(), 413, 'file_too_large'],
      ];
      for (const [data, status, code] of refusals) {
        const answer = await post(data);
        assert.equal(answer?.status, status, answer?.body.toString());
        assert.equal(answer?.json?.code, code);
        assert.deepEqual(await filesOnDisk(suite.harness, 'cache'), []);
      }
    });
  });
}
