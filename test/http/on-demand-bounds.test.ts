import '../support/harness.js';
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Repository } from 'typeorm';
import { OnDemandDerivatives } from '../../src/attaching/index.js';
import { derivativeFolder } from '../../src/derivatives/index.js';
import { Cover, Poster, thumbWatch } from '../support/on-demand-entities.js';
import { png } from '../support/fixtures.js';
import {
  listFiles,
  referencedFiles,
  storedFiles,
  waitFor,
  waitForIdle,
  type Harness,
} from '../support/harness.js';
import { rawRequest, type RawResponse } from '../support/http-client.js';
import { PLATFORMS } from '../support/platforms.js';
import { useHarness, type SuiteContext } from '../support/suite.js';
import type { AttachmentsOnDemandOptions } from '../../src/config/index.js';

/** An app whose on-demand endpoint has these bounds, and what its tests share. */
function onDemandSuite(
  platform: (typeof PLATFORMS)[number],
  onDemand: AttachmentsOnDemandOptions,
  signedStorages: string[] = [],
) {
  const suite: SuiteContext = useHarness('sqlite', [Poster, Cover], {
    http: true,
    platform,
    derivatives: { onDemand },
    signedStorages,
  });
  const context = {
    suite,
    get harness(): Harness {
      return suite.harness;
    },
    get posters(): Repository<Poster> {
      return suite.db.dataSource.getRepository(Poster);
    },
    get makings(): OnDemandDerivatives {
      return suite.harness.app.get(OnDemandDerivatives, { strict: false });
    },
    get: (path: string) =>
      rawRequest(`${suite.harness.baseUrl}${path}`, { method: 'GET' }) as Promise<RawResponse>,
    async savePoster(seed: number): Promise<Poster> {
      const poster = context.posters.create();
      await suite.harness.attachments.attach(poster, 'image', png(40, 30, seed), {
        filename: 'poster.png',
      });
      await context.posters.save(poster);
      await waitForIdle(suite.harness, suite.db.dataSource);
      return context.posters.findOneByOrFail({ id: poster.id });
    },
    thumbUrl: (poster: Poster) =>
      suite.harness.attachments.url(poster.image!, {
        derivative: 'thumb',
        record: poster,
        attachment: 'image',
      }),
  };
  afterEach(async () => {
    thumbWatch.reset();
    await waitFor(async () => context.makings.load.running === 0, 'the makings to end');
    await waitForIdle(suite.harness, suite.db.dataSource);
    assert.deepEqual(
      await storedFiles(suite.harness.storages),
      await referencedFiles(suite.db.dataSource, [{ entity: Poster, properties: ['image'] }]),
      'every stored file is named by a column, and every named file is stored',
    );
  });
  return context;
}

for (const platform of PLATFORMS) {
  describe(`on-demand derivatives bounded on ${platform}`, () => {
    const app = onDemandSuite(platform, { concurrency: 1, queueLimit: 1 });

    it('refuses a making beyond concurrency and queue at once, with 503 and Retry-After', async () => {
      const [a, b, c] = [await app.savePoster(1), await app.savePoster(2), await app.savePoster(3)];
      thumbWatch.hold();
      const first = app.get(await app.thumbUrl(a));
      await thumbWatch.reached(1);
      const second = app.get(await app.thumbUrl(b));
      await waitFor(async () => app.makings.load.waiting === 1, 'the second making to wait');

      const refused = await app.get(await app.thumbUrl(c));
      assert.equal(refused.status, 503);
      assert.equal(refused.json?.code, 'derivative_busy');
      assert.equal(typeof refused.json?.message, 'string');
      assert.equal(refused.headers['retry-after'], '1');
      assert.equal(refused.headers['cache-control'], 'no-store');
      assert.equal(thumbWatch.calls, 1);

      thumbWatch.open();
      assert.equal((await first).status, 200);
      assert.equal((await second).status, 200);
      assert.equal(thumbWatch.calls, 2);
      assert.equal((await app.get(await app.thumbUrl(c))).status, 200);
    });
  });

  describe(`on-demand derivatives with a time limit on ${platform}`, () => {
    const app = onDemandSuite(platform, { timeout: 200 });

    it('answers 503 past the time limit, and removes the output once the making ends', async () => {
      const poster = await app.savePoster(4);
      const url = await app.thumbUrl(poster);
      thumbWatch.hold();
      const late = await app.get(url);
      assert.equal(late.status, 503);
      assert.equal(late.json?.code, 'derivative_busy');
      assert.ok(Number(late.headers['retry-after']) >= 1);
      // The making still runs: a request now joins it and is refused at once.
      await thumbWatch.reached(1);
      assert.equal(app.makings.load.running, 1);
      assert.equal((await app.get(url)).status, 503);
      assert.equal(thumbWatch.calls, 1);

      thumbWatch.open();
      await waitFor(async () => app.makings.load.running === 0, 'the late making to end');
      const folder = derivativeFolder(poster.image!);
      const left = (await listFiles(app.harness.storages.store!)).filter((id) =>
        id.startsWith(`${folder}thumb.`),
      );
      assert.deepEqual(left, []);
      const now = await app.posters.findOneByOrFail({ id: poster.id });
      assert.equal(now.image!.derivatives?.thumb, undefined);

      assert.equal((await app.get(url)).status, 200);
      assert.equal(thumbWatch.calls, 2);
    });
  });

  describe(`on-demand derivatives of a signed storage on ${platform}`, () => {
    const app = onDemandSuite(platform, {}, ['store']);

    it("expires as the storage's file URLs do, and is answered as private", async () => {
      const poster = await app.savePoster(6);
      const url = await app.thumbUrl(poster);
      const expires = Number(new URL(url, 'http://x').searchParams.get('expires'));
      assert.ok(expires > Date.now() && expires <= Date.now() + 3600_000, url);
      const answer = await app.get(url);
      assert.equal(answer.status, 200);
      assert.match(String(answer.headers['cache-control']), /^private, max-age=\d+$/);

      const stored = await app.posters.findOneByOrFail({ id: poster.id });
      const own = await app.thumbUrl(stored);
      assert.match(own, /^\/attachments\/files\/store\/.*&signature=/);
      assert.deepEqual((await app.get(own)).body, answer.body);
    });
  });

  describe(`on-demand derivatives redirected on ${platform}`, () => {
    const app = onDemandSuite(platform, { response: 'redirect' });

    it('answers 302 to the stored derivative, which the files endpoint serves', async () => {
      const poster = await app.savePoster(5);
      const answer = await app.get(await app.thumbUrl(poster));
      assert.equal(answer.status, 302);
      const stored = await app.posters.findOneByOrFail({ id: poster.id });
      const thumb = stored.image!.derivatives!.thumb!;
      assert.equal(
        answer.headers.location,
        `/attachments/files/store/${thumb.id}?filename=thumb.webp`,
      );
      assert.equal(answer.headers['cache-control'], 'public, max-age=3600');
      const file = await app.get(answer.headers.location!);
      assert.equal(file.status, 200);
      assert.equal(file.headers['content-type'], 'image/webp');
      assert.equal(file.body.length, thumb.metadata.size);
      assert.equal(thumbWatch.calls, 1);
    });
  });
}
