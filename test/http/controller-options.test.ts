import '../support/harness.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IncomingHttpHeaders } from 'node:http';
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { FileSystemStorage, type UploadedFile } from '../../src/index.js';
import { verifyUploadToken } from '../../src/core/index.js';
import { Photo } from '../support/entities.js';
import { SECRET } from '../support/harness.js';
import { png } from '../support/fixtures.js';
import { multipart, rawRequest } from '../support/http-client.js';
import { PLATFORMS } from '../support/platforms.js';
import { useHarness } from '../support/suite.js';

/** Lets in who sends the key, and records who that is on the adapter's request, as auth does. */
@Injectable()
class ApiKeyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context
      .switchToHttp()
      .getRequest<{ headers: IncomingHttpHeaders; user?: { id: string } }>();
    if (request.headers['x-api-key'] !== 'let-me-in') return false;
    request.user = { id: 'key-holder' };
    // A header set through the adapter's response, as security and CORS hooks do.
    context
      .switchToHttp()
      .getResponse<{ header(name: string, value: string): unknown }>()
      .header('X-Checked-By', 'api-key');
    return true;
  }
}

function upload(baseUrl: string, path: string, headers: Record<string, string> = {}) {
  const { body, contentType } = multipart([{ name: 'file', filename: 'a.png', data: png(3, 3) }]);
  // Every upload names the attachment it is for.
  return rawRequest(`${baseUrl}${path}?entity=Photo&attachment=image`, {
    headers: { 'content-type': contentType, ...headers },
    body,
  });
}

for (const platform of PLATFORMS) {
  describe(`controller options on ${platform}`, () => {
    describe('a custom path, guards and URL prefix', () => {
      const suite = useHarness('sqlite', [Photo], {
        http: true,
        platform,
        extras: {
          controller: { path: '/files-api/', guards: [ApiKeyGuard], urlPrefix: '/api/files-api' },
        },
        upload: { owner: (request) => (request.user as { id?: string } | undefined)?.id },
      });

      it('mounts under the path, runs the guards first, and builds URLs with the prefix', async () => {
        const { baseUrl } = suite.harness;
        const denied = await upload(baseUrl, '/files-api/upload');
        assert.equal(denied?.status, 403);
        assert.deepEqual(
          await suite.harness.storages.cache!.list()[Symbol.asyncIterator]().next(),
          {
            done: true,
            value: undefined,
          },
        );
        const allowed = await upload(baseUrl, '/files-api/upload', { 'x-api-key': 'let-me-in' });
        assert.equal(allowed?.status, 201);
        const { url, file, token } = allowed!.json as {
          url: string;
          file: UploadedFile;
          token: string;
        };
        assert.equal(url, `/api/files-api/files/cache/${file.id}?filename=a.png`);
        // The owner resolver sees the user the guard put on the adapter's own request.
        assert.equal(verifyUploadToken(token, SECRET).owner, 'key-holder');
        assert.equal(allowed?.headers['x-checked-by'], 'api-key');
        // Answers written straight to Node's response carry the headers set on the adapter's.
        for (const path of [`/files-api/files/cache/${file.id}`, '/files-api/client.js']) {
          const served = await rawRequest(`${baseUrl}${path}`, {
            method: 'GET',
            headers: { 'x-api-key': 'let-me-in' },
          });
          assert.equal(served?.status, 200, path);
          assert.equal(served?.headers['x-checked-by'], 'api-key', path);
        }
        assert.equal((await upload(baseUrl, '/attachments/upload'))?.status, 404);
      });
    });

    describe("under the app's global prefix", () => {
      const suite = useHarness('sqlite', [Photo], {
        http: true,
        platform,
        globalPrefix: 'api',
        extras: { controller: { urlPrefix: '/api/attachments' } },
      });

      it('uploads and serves files under the prefix', async () => {
        const { baseUrl } = suite.harness;
        const uploaded = await upload(baseUrl, '/api/attachments/upload');
        assert.equal(uploaded?.status, 201, uploaded?.body.toString());
        const { url } = uploaded!.json as { url: string };
        assert.match(url, /^\/api\/attachments\/files\/cache\//);
        const served = await rawRequest(`${baseUrl}${url}`, { method: 'GET' });
        assert.equal(served?.status, 200);
        assert.deepEqual(served?.body, png(3, 3));
      });
    });

    describe('controller: false', () => {
      const suite = useHarness('sqlite', [Photo], {
        http: true,
        platform,
        extras: { controller: false },
        storages: {
          cache: new FileSystemStorage({
            directory: '/tmp/unused-cache',
            baseUrl: 'https://cdn.test/c',
          }),
          store: new FileSystemStorage({ directory: '/tmp/unused-store' }),
        },
      });

      it('mounts no routes, and URLs come from the storages themselves', async () => {
        assert.equal((await upload(suite.harness.baseUrl, '/attachments/upload'))?.status, 404);
        const file = (id: string, storage: string): UploadedFile => ({
          id,
          storage,
          metadata: { filename: null, size: 1, mimeType: 'image/png' },
        });
        assert.equal(
          await suite.harness.attachments.url(file('a b.png', 'cache')),
          'https://cdn.test/c/a%20b.png',
        );
        assert.equal(
          await suite.harness.attachments.url(file('x.png', 'store')),
          'file:///tmp/unused-store/x.png',
        );
      });
    });
  });
}
