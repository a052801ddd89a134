import '../support/harness.js';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { Photo } from '../support/entities.js';
import { rawRequest } from '../support/http-client.js';
import { PLATFORMS } from '../support/platforms.js';
import { useHarness } from '../support/suite.js';

for (const platform of PLATFORMS) {
  describe(`GET /attachments/client.js on ${platform}`, () => {
    const suite = useHarness('sqlite', [Photo], { http: true, platform });

    it('serves the browser client of the package as a script browsers may keep an hour', async () => {
      const answer = (await rawRequest(`${suite.harness.baseUrl}/attachments/client.js`, {
        method: 'GET',
      }))!;
      assert.equal(answer.status, 200);
      assert.equal(answer.headers['content-type'], 'text/javascript; charset=utf-8');
      assert.equal(answer.headers['cache-control'], 'public, max-age=3600');
      const script = await readFile(new URL('../../../client/direct-upload.js', import.meta.url));
      assert.deepEqual(answer.body, script);
    });
  });
}
