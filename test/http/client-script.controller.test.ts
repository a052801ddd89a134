import '../support/harness.js';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { Photo } from '../support/entities.js';
import { rawRequest } from '../support/http-client.js';
import { PLATFORMS } from '../support/platforms.js';
import { useHarness } from '../support/suite.js';

const CLIENT_FOLDER = new URL('../../../client/', import.meta.url);

/** The relative modules a client file imports (`from './x.js'`). */
function importsOf(script: string): string[] {
  return [...script.matchAll(/\bfrom\s+'\.\/([\w-]+\.js)'/g)].map((match) => match[1]!);
}

for (const platform of PLATFORMS) {
  describe(`GET /attachments/client.js on ${platform}`, () => {
    const suite = useHarness('sqlite', [Photo], { http: true, platform });

    async function served(path: string) {
      const answer = (await rawRequest(`${suite.harness.baseUrl}/attachments/${path}`, {
        method: 'GET',
      }))!;
      assert.equal(answer.status, 200, path);
      assert.equal(answer.headers['content-type'], 'text/javascript; charset=utf-8');
      assert.equal(answer.headers['cache-control'], 'public, max-age=3600');
      return answer.body;
    }

    it('serves the browser client of the package as a script browsers may keep an hour', async () => {
      const script = await readFile(new URL('direct-upload.js', CLIENT_FOLDER));
      assert.deepEqual(await served('client.js'), script);
    });

    it('serves next to it every module the client imports, as the package holds them', async () => {
      const seen = new Set<string>();
      const pending = importsOf((await served('client.js')).toString());
      assert.ok(pending.length > 0, 'the client imports its modules by relative URL');
      while (pending.length > 0) {
        const name = pending.pop()!;
        if (seen.has(name)) continue;
        seen.add(name);
        const body = await served(name);
        assert.deepEqual(body, await readFile(new URL(name, CLIENT_FOLDER)), name);
        pending.push(...importsOf(body.toString()));
      }
      assert.deepEqual([...seen].sort(), [
        'direct-upload-multipart.js',
        'direct-upload-requests.js',
        'direct-upload-tus.js',
      ]);
    });
  });
}
