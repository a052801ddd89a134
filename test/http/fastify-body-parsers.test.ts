import '../support/harness.js';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { Controller, HttpCode, Post, UploadedFile, UseInterceptors } from '@nestjs/common';
import { FileInterceptor, type UploadedMultipartFile } from '@nestjs/platform-fastify/multipart';
import type { UploadResponse } from '../../src/index.js';
import { Photo } from '../support/entities.js';
import { png } from '../support/fixtures.js';
import { multipart, rawRequest } from '../support/http-client.js';
import { useHarness } from '../support/suite.js';

/** An app's own route that takes multipart through Nest's Fastify upload interceptor. */
@Controller('avatars')
class AvatarsController {
  @Post()
  @HttpCode(200)
  @UseInterceptors(FileInterceptor('file'))
  receive(@UploadedFile() file: UploadedMultipartFile) {
    return { name: file.originalname, size: file.size };
  }
}

/** An app's own route that takes no multipart body. */
@Controller('notes')
class NotesController {
  @Post()
  @HttpCode(200)
  create() {
    return { created: true };
  }
}

const image = png(16, 12, 4);
const form = () => multipart([{ name: 'file', filename: 'face.png', data: image }]);

function post(baseUrl: string, path: string) {
  const { body, contentType } = form();
  return rawRequest(`${baseUrl}${path}`, { headers: { 'content-type': contentType }, body });
}

async function uploadsThroughTheModule(baseUrl: string) {
  const answer = await post(baseUrl, '/attachments/upload?entity=Photo&attachment=image');
  assert.equal(answer?.status, 201, answer?.body.toString());
  const { file } = answer!.json as unknown as UploadResponse;
  assert.equal(file.metadata.size, image.length);
  assert.equal(file.metadata.sha256, createHash('sha256').update(image).digest('hex'));
}

describe("the upload route next to Fastify's body parsers", () => {
  describe('an app without a multipart parser of its own', () => {
    const suite = useHarness('sqlite', [Photo], {
      http: true,
      platform: 'fastify',
      controllers: [NotesController],
    });

    it('streams the upload, while its own routes still refuse multipart with 415', async () => {
      await uploadsThroughTheModule(suite.harness.baseUrl);
      const refused = await post(suite.harness.baseUrl, '/notes');
      assert.equal(refused?.status, 415);
      assert.equal(refused?.json?.statusCode, 415);
      const unknown = await post(suite.harness.baseUrl, '/nowhere');
      assert.equal(unknown?.status, 404);
    });
  });

  describe("an app that uses @fastify/multipart through Nest's upload interceptors", () => {
    const suite = useHarness('sqlite', [Photo], {
      http: true,
      platform: 'fastify',
      fastify: { multipart: true },
      controllers: [AvatarsController],
    });

    it('streams the upload, and the app reads its own multipart routes as before', async () => {
      await uploadsThroughTheModule(suite.harness.baseUrl);
      const own = await post(suite.harness.baseUrl, '/avatars');
      assert.equal(own?.status, 200, own?.body.toString());
      assert.deepEqual(own?.json, { name: 'face.png', size: image.length });
    });
  });
});
