import '../support/harness.js';
import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import type { Repository } from 'typeorm';
import {
  AttachmentEvents,
  AttachmentSerializer,
  type AttachmentEvent,
  type UploadedFile,
} from '../../src/index.js';
import { derivativeFolder } from '../../src/derivatives/index.js';
import { derivativeUrl } from '../../src/attaching/on-demand-url.js';
import { Cover, Poster, thumbWatch } from '../support/on-demand-entities.js';
import { DATABASES } from '../support/databases.js';
import { png } from '../support/fixtures.js';
import {
  filesOnDisk,
  listFiles,
  referencedFiles,
  SECRET,
  storedFiles,
  waitFor,
  waitForIdle,
  type Harness,
} from '../support/harness.js';
import { rawRequest, type RawResponse } from '../support/http-client.js';
import { PLATFORMS } from '../support/platforms.js';
import { useHarness } from '../support/suite.js';

for (const platform of PLATFORMS) {
  for (const kind of DATABASES) {
    describe(`on-demand derivatives on ${platform} and ${kind}`, () => {
      const suite = useHarness(kind, [Poster, Cover], { http: true, platform });
      let harness: Harness;
      let posters: Repository<Poster>;
      let covers: Repository<Cover>;
      before(() => {
        harness = suite.harness;
        posters = suite.db.dataSource.getRepository(Poster);
        covers = suite.db.dataSource.getRepository(Cover);
      });

      afterEach(async () => {
        thumbWatch.reset();
        await waitForIdle(harness, suite.db.dataSource);
        assert.deepEqual(
          await storedFiles(harness.storages),
          await referencedFiles(suite.db.dataSource, [
            { entity: Poster, properties: ['image'] },
            { entity: Cover, properties: ['image'] },
          ]),
          'every stored file is named by a column, and every named file is stored',
        );
      });

      const get = (path: string, headers: Record<string, string> = {}) =>
        rawRequest(`${harness.baseUrl}${path}`, { method: 'GET', headers }) as Promise<RawResponse>;

      async function savePoster(seed: number): Promise<Poster> {
        const poster = posters.create();
        await harness.attachments.attach(poster, 'image', png(40, 30, seed), {
          filename: 'poster.png',
        });
        await posters.save(poster);
        await waitForIdle(harness, suite.db.dataSource);
        return posters.findOneByOrFail({ id: poster.id });
      }

      const thumbUrl = (poster: Poster, options: { expiresIn?: number } = {}) =>
        harness.attachments.url(poster.image!, {
          derivative: 'thumb',
          record: poster,
          attachment: 'image',
          ...options,
        });

      /** The store's files under the original's derivative folder, but the job's `small`. */
      async function derivativesOf(original: UploadedFile): Promise<string[]> {
        const folder = derivativeFolder(original);
        return (await listFiles(harness.storages.store!)).filter(
          (id) => id.startsWith(folder) && id !== `${folder}small.png`,
        );
      }

      it('makes the derivative on the first request, stores it, and never makes it again', async () => {
        const poster = await savePoster(1);
        assert.deepEqual(Object.keys(poster.image!.derivatives ?? {}), ['small']);
        const url = await thumbUrl(poster);
        assert.match(url, /^\/attachments\/derivatives\/Poster\/image\/thumb\?record=/);

        const first = await get(url);
        assert.equal(first.status, 200);
        assert.equal(first.headers['content-type'], 'image/webp');
        assert.equal(thumbWatch.calls, 1);

        const stored = await posters.findOneByOrFail({ id: poster.id });
        const thumb = stored.image!.derivatives!.thumb!;
        assert.equal(thumb.id, `${derivativeFolder(poster.image!)}thumb.webp`);
        assert.equal(thumb.metadata.mimeType, 'image/webp');
        const own = await thumbUrl(stored);
        assert.equal(own, `/attachments/files/store/${thumb.id}?filename=thumb.webp`);
        assert.deepEqual((await get(own)).body, first.body);

        // The old URL, cached in some page, answers from the column without processing.
        const second = await get(url);
        assert.equal(second.status, 200);
        assert.deepEqual(second.body, first.body);
        assert.equal(thumbWatch.calls, 1);
      });

      it('tells listeners of the derivative, as a derivative job does', async () => {
        const events = harness.app.get(AttachmentEvents, { strict: false });
        const seen: AttachmentEvent[] = [];
        const subscription = events.events$.subscribe((event) => seen.push(event));
        try {
          const poster = await savePoster(13);
          assert.equal((await get(await thumbUrl(poster))).status, 200);
          const { image } = await posters.findOneByOrFail({ id: poster.id });
          const told = await waitFor(
            async () => seen.find((event) => event.type === 'derivative' && event.name === 'thumb'),
            'the derivative event',
          );
          assert.deepEqual(told.type === 'derivative' && told.file, image!.derivatives!.thumb);
          assert.equal(told.type === 'derivative' && told.original.id, image!.id);
        } finally {
          subscription.unsubscribe();
        }
      });

      it('makes it once for twenty concurrent first requests', async () => {
        const poster = await savePoster(2);
        const url = await thumbUrl(poster);
        thumbWatch.hold();
        const answers = Array.from({ length: 20 }, () => get(url));
        await thumbWatch.reached(1);
        thumbWatch.open();
        const done = await Promise.all(answers);
        assert.deepEqual(
          done.map((answer) => answer.status),
          done.map(() => 200),
        );
        assert.ok(done.every((answer) => answer.body.equals(done[0]!.body)));
        assert.equal(thumbWatch.calls, 1);
        assert.deepEqual(await derivativesOf(poster.image!), [
          `${derivativeFolder(poster.image!)}thumb.webp`,
        ]);
      });

      it("a replaced original's URL serves nothing, and nothing of it is left", async () => {
        const poster = await savePoster(3);
        const url = await thumbUrl(poster);
        assert.equal((await get(url)).status, 200);
        const loaded = await posters.findOneByOrFail({ id: poster.id });
        await harness.attachments.attach(loaded, 'image', png(40, 30, 4), { filename: 'b.png' });
        await posters.save(loaded);
        await waitForIdle(harness, suite.db.dataSource);

        const gone = await get(url);
        assert.equal(gone.status, 404);
        assert.equal(gone.json?.code, 'derivative_not_found');
        assert.equal(gone.headers['cache-control'], 'no-store');
        assert.equal(thumbWatch.calls, 1);
        const files = await listFiles(harness.storages.store!);
        assert.ok(!files.includes(poster.image!.id));
        assert.deepEqual(await derivativesOf(poster.image!), []);
      });

      it('a making that ends after the original was replaced writes nothing and leaves nothing', async () => {
        const poster = await savePoster(5);
        const url = await thumbUrl(poster);
        thumbWatch.hold();
        const answer = get(url);
        await thumbWatch.reached(1);
        const loaded = await posters.findOneByOrFail({ id: poster.id });
        await harness.attachments.attach(loaded, 'image', png(40, 30, 6), { filename: 'c.png' });
        await posters.save(loaded);
        await waitForIdle(harness, suite.db.dataSource);
        thumbWatch.open();

        const late = await answer;
        assert.equal(late.status, 404);
        assert.equal(late.json?.code, 'derivative_not_found');
        assert.deepEqual(await derivativesOf(poster.image!), []);
        const now = await posters.findOneByOrFail({ id: poster.id });
        assert.equal(now.image!.derivatives?.thumb, undefined);
      });

      it('refuses altered, expired and undeclared URLs with JSON, uncached', async () => {
        const poster = await savePoster(7);
        const url = new URL(await thumbUrl(poster), 'http://x');
        const altered = (change: (url: URL) => void) => {
          const copy = new URL(url);
          change(copy);
          return `${copy.pathname}${copy.search}`;
        };
        const refusals = [
          altered((u) => u.searchParams.set('signature', `${u.searchParams.get('signature')}x`)),
          altered((u) => u.searchParams.delete('signature')),
          altered((u) => u.searchParams.set('record', JSON.stringify({ id: poster.id + 1 }))),
          altered((u) => u.searchParams.set('storage', 'cache')),
          altered((u) => u.searchParams.set('file', 'other.png')),
          altered((u) => u.searchParams.set('expires', String(Date.now() + 60_000))),
          altered((u) => (u.pathname = u.pathname.replace('/thumb', '/refused'))),
          altered((u) => (u.pathname = u.pathname.replace('/Poster/', '/Cover/'))),
        ];
        for (const path of refusals) {
          const answer = await get(path);
          assert.equal(answer.status, 403, path);
          assert.equal(answer.json?.code, 'invalid_file_url', path);
          assert.equal(typeof answer.json?.message, 'string');
          assert.equal(answer.headers['cache-control'], 'no-store');
        }

        const grant = {
          entity: 'Poster',
          attachment: 'image',
          name: 'thumb',
          record: JSON.stringify({ id: poster.id }),
          storage: 'store',
          file: poster.image!.id,
        };
        const expired = derivativeUrl(
          { ...grant, expires: Date.now() - 1000 },
          SECRET,
          '/attachments',
        );
        const answer = await get(expired);
        assert.equal(answer.status, 403);
        assert.match(String(answer.json?.message), /expired/);

        // Signed with the secret, but no on-demand derivative of that name.
        for (const signed of [
          { ...grant, name: 'nope' },
          { ...grant, name: 'small' },
          { ...grant, name: 'constructor' },
          { ...grant, entity: 'Nope' },
          { ...grant, attachment: 'title' },
        ]) {
          const unknown = await get(derivativeUrl(signed, SECRET, '/attachments'));
          assert.equal(unknown.status, 404, JSON.stringify(signed));
          assert.equal(unknown.json?.code, 'derivative_not_found');
          assert.equal(typeof unknown.json?.message, 'string');
        }
        assert.equal(thumbWatch.calls, 0);
      });

      it('a processor that fails answers an error and leaves no file', async () => {
        const poster = await savePoster(8);
        const options = { record: poster, attachment: 'image' };
        const kept = await harness.attachments.url(poster.image!, {
          derivative: 'refused.kept',
          ...options,
        });
        assert.equal((await get(kept)).status, 200);
        const refused = await get(
          await harness.attachments.url(poster.image!, { derivative: 'refused', ...options }),
        );
        assert.equal(refused.status, 422);
        assert.equal(refused.json?.code, 'image_processing_failed');
        assert.equal(refused.headers['cache-control'], 'no-store');
        const broken = await get(
          await harness.attachments.url(poster.image!, { derivative: 'broken', ...options }),
        );
        assert.equal(broken.status, 500);
        assert.equal(broken.json?.code, 'internal');
        // No temporary file of a broken upload either: the disk holds what the storage lists.
        const onDisk = await filesOnDisk(harness, 'store');
        assert.equal(onDisk.length, (await listFiles(harness.storages.store!)).length);
        const now = await posters.findOneByOrFail({ id: poster.id });
        assert.deepEqual(Object.keys(now.image!.derivatives ?? {}).sort(), [
          'refused.kept',
          'small',
        ]);
        assert.deepEqual(await derivativesOf(poster.image!), [
          `${derivativeFolder(poster.image!)}refused.kept.webp`,
        ]);
      });

      it('answers with an ETag, 304 when it matches, and caches as long as the URL lives', async () => {
        const poster = await savePoster(9);
        const url = await thumbUrl(poster);
        const answer = await get(url);
        assert.equal(answer.status, 200);
        assert.equal(answer.headers['cache-control'], 'public, max-age=31536000, immutable');
        assert.ok(answer.headers.etag);
        const again = await get(url, { 'if-none-match': answer.headers.etag! });
        assert.equal(again.status, 304);
        assert.equal(again.body.length, 0);
        const head = (await rawRequest(`${harness.baseUrl}${url}`, { method: 'HEAD' }))!;
        assert.equal(head.status, 200);
        assert.equal(head.headers['content-length'], String(answer.body.length));
        assert.equal(head.body.length, 0);

        const expiring = await thumbUrl(poster, { expiresIn: 600 });
        assert.match(expiring, /&expires=\d+&/);
        const bounded = await get(expiring);
        assert.equal(bounded.status, 200);
        const maxAge = /^public, max-age=(\d+)$/.exec(String(bounded.headers['cache-control']));
        assert.ok(maxAge && Number(maxAge[1]) <= 600, bounded.headers['cache-control']);
        assert.equal(thumbWatch.calls, 1);
      });

      it("gives the original's URL while the file is cached or no record is named", async () => {
        const poster = await savePoster(10);
        const original = await harness.attachments.url(poster.image!);
        assert.equal(
          await harness.attachments.url(poster.image!, { derivative: 'thumb' }),
          original,
        );
        const draft = posters.create({ id: 100_000 });
        await harness.attachments.attach(draft, 'image', png(40, 30, 11), { filename: 'd.png' });
        const cached = await harness.attachments.url(draft.image!, {
          derivative: 'thumb',
          record: draft,
          attachment: 'image',
        });
        assert.equal(cached, await harness.attachments.url(draft.image!));
        assert.match(cached, /^\/attachments\/files\/cache\//);
        await harness.storages.cache!.delete(draft.image!.id); // never saved
      });

      it('serializes an unmade on-demand derivative with its signed URL', async () => {
        const serializer = harness.app.get(AttachmentSerializer, { strict: false });
        const poster = await savePoster(12);
        const before = await serializer.serialize(poster, 'image');
        assert.deepEqual(before?.derivatives.thumb, {
          ready: false,
          url: await thumbUrl(poster),
          onDemand: true,
        });
        assert.equal(before?.derivatives.small?.ready, true);
        assert.equal(before?.derivatives.small?.onDemand, undefined);
        assert.equal((await get(before!.derivatives.thumb!.url)).status, 200);

        const stored = await posters.findOneByOrFail({ id: poster.id });
        const after = await serializer.serialize(stored, 'image');
        assert.deepEqual(after?.derivatives.thumb, {
          ready: true,
          url: `/attachments/files/store/${stored.image!.derivatives!.thumb!.id}?filename=thumb.webp`,
          onDemand: true,
        });
      });

      it('works as the README shows', async () => {
        const { attachments } = harness;
        const cover = covers.create();
        await attachments.attach(cover, 'image', png(300, 200, 7), { filename: 'cover.png' });
        await covers.save(cover);
        await waitForIdle(harness, suite.db.dataSource);
        const saved = await covers.findOneByOrFail({ id: cover.id });

        const url = await attachments.url(saved.image!, {
          derivative: 'thumb',
          record: saved,
          attachment: 'image',
        });

        const answer = await get(url);
        assert.equal(answer.status, 200);
        const { image } = await covers.findOneByOrFail({ id: cover.id });
        assert.equal(image!.derivatives!.thumb!.metadata.width, 200);
      });
    });
  }
}
