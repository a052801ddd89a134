import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { png } from '../support/fixtures.js';
import { waitFor } from '../support/harness.js';
import { api, untilStored } from './http.js';
import { filesUnder, startSampleApp, type SampleApp } from './sample-app.js';

interface AlbumPhoto {
  key: string;
  state: string;
  metadata: { filename: string };
  derivatives: { thumb: { ready: boolean } };
}

/** Uploads bytes to the library's endpoint for an album's list; answers the token. */
async function albumToken(baseUrl: string, data: Buffer, filename: string): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([data]), filename);
  const response = await fetch(`${baseUrl}/attachments/upload?entity=Album&attachment=photos`, {
    method: 'POST',
    body: form,
  });
  const body = (await response.json()) as { token: string };
  assert.equal(response.status, 201, JSON.stringify(body));
  return body.token;
}

/** Reads the server-sent events of GET /events into `messages` until `stop` aborts. */
async function listen(baseUrl: string, messages: Record<string, unknown>[], stop: AbortSignal) {
  const response = await fetch(`${baseUrl}/events`, { signal: stop });
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  const decoder = new TextDecoder();
  let buffered = '';
  void (async () => {
    for await (const chunk of response.body!) {
      buffered += decoder.decode(chunk as Uint8Array, { stream: true });
      const events = buffered.split('\n\n');
      buffered = events.pop()!;
      for (const event of events) {
        const data = event.split('\n').find((line) => line.startsWith('data: '));
        if (data) messages.push(JSON.parse(data.slice(6)) as Record<string, unknown>);
      }
    }
  })().catch(() => undefined);
}

describe("the sample app's albums, previews and event stream", () => {
  let uploads: string;
  let app: SampleApp;
  const messages: Record<string, unknown>[] = [];
  const stop = new AbortController();

  before(async () => {
    uploads = await mkdtemp(join(tmpdir(), 'sample-albums-'));
    app = await startSampleApp({ uploads });
    await listen(app.baseUrl, messages, stop.signal);
  });

  after(async () => {
    stop.abort();
    await app?.stop();
    await rm(uploads, { recursive: true, force: true });
  });

  it('streams the steps of a photo: promoted, its thumbnail made on request, its cached copy deleted', async () => {
    const form = new FormData();
    form.append('file', new Blob([png(40, 30, 1)]), 'sea.png');
    const uploaded = await fetch(
      `${app.baseUrl}/attachments/upload?entity=Photo&attachment=image`,
      {
        method: 'POST',
        body: form,
      },
    );
    const { token } = (await uploaded.json()) as { token: string };
    const created = await api(app.baseUrl, 'POST', '/photos', { title: 'Sea', image: token });
    const id = created.body!.id as number;
    // The answer of POST /photos keeps its shape: no thumbnail, no placeholder.
    const image = created.body!.image as Record<string, unknown>;
    assert.deepEqual(Object.keys(image).sort(), ['metadata', 'state', 'url']);

    const stored = await untilStored(app.baseUrl, id);
    const preview = await api(app.baseUrl, 'GET', `/photos/${id}/preview`);
    assert.equal(preview.status, 200);
    const { thumbnail, placeholder, url } = preview.body as {
      thumbnail: { ready: boolean; url: string };
      placeholder: string;
      url: string;
    };
    assert.equal(url, stored.url);
    assert.equal(placeholder, `/photos/${id}/placeholder`);
    const painted = await fetch(app.baseUrl + placeholder);
    assert.equal(painted.headers.get('content-type'), 'image/png');
    assert.deepEqual(
      [...Buffer.from(await painted.arrayBuffer()).subarray(1, 4)],
      [0x50, 0x4e, 0x47],
    );
    assert.equal(thumbnail.ready, false, 'made on its first request only');
    const made = await fetch(app.baseUrl + thumbnail.url);
    assert.equal(made.headers.get('content-type'), 'image/webp');

    const steps = () =>
      messages
        .filter((message) => message.entity === 'Photo' && message.recordId === id)
        .map((message) =>
          message.type === 'deleted' ? `deleted:${message.reason}` : message.type,
        );
    await waitFor(async () => steps().includes('deleted:promoted'), 'the cached copy deleted');
    await waitFor(async () => steps().includes('derivative'), 'the thumbnail event');
    assert.deepEqual(steps().slice(0, 2), ['attached', 'promoted']);
    const thumb = messages.find((message) => message.type === 'derivative');
    assert.equal(thumb?.derivative, 'thumb');
    assert.equal(
      (
        (await api(app.baseUrl, 'GET', `/photos/${id}/preview`)).body!.thumbnail as {
          ready: boolean;
        }
      ).ready,
      true,
    );
    assert.equal((await fetch(`${app.baseUrl}/photos/${id}`, { method: 'DELETE' })).status, 204);
  });

  it('keeps, adds, reorders and removes the photos of an album by key and token', async () => {
    const [a, b, c] = await Promise.all(
      ['a.png', 'b.png', 'c.png'].map((name, seed) =>
        albumToken(app.baseUrl, png(30, 20, seed), name),
      ),
    );
    const created = await api(app.baseUrl, 'POST', '/albums', { title: ' Trip ', photos: [a, b] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body!.id as number;
    assert.equal(created.body!.title, 'Trip');
    const photos = () =>
      api(app.baseUrl, 'GET', `/albums/${id}`).then(
        (answer) => answer.body!.photos as AlbumPhoto[],
      );
    const [keyA, keyB] = (created.body!.photos as AlbumPhoto[]).map((photo) => photo.key);
    // Promotion changes each file's id; its key stays.
    await waitFor(
      async () =>
        (await photos()).every(
          (photo) => photo.state === 'stored' && photo.derivatives.thumb.ready,
        ),
      'the album stored with its thumbnails',
    );
    assert.deepEqual(
      (await photos()).map((photo) => photo.key),
      [keyA, keyB],
    );

    const patched = await api(app.baseUrl, 'PATCH', `/albums/${id}`, { photos: [c, keyB] });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    const after = patched.body!.photos as AlbumPhoto[];
    assert.deepEqual(
      after.map((photo) => photo.metadata.filename),
      ['c.png', 'b.png'],
    );
    assert.equal(after[1]!.key, keyB);
    await waitFor(
      async () =>
        (await photos()).every(
          (photo) => photo.state === 'stored' && photo.derivatives.thumb.ready,
        ),
      'the new photo stored with its thumbnail',
    );
    // a.png and its thumbnail went; each of the two left has an original and a thumbnail.
    await waitFor(async () => (await filesUnder(join(uploads, 'cache'))).length === 0, 'no cache');
    const albumFiles = async () =>
      (await filesUnder(join(uploads, 'store'))).filter((file) => file.startsWith('album/'));
    await waitFor(async () => (await albumFiles()).length === 4, 'four album files');
    assert.equal((await albumFiles()).filter((file) => file.endsWith('/thumb.webp')).length, 2);

    assert.equal((await fetch(`${app.baseUrl}/albums/${id}`, { method: 'DELETE' })).status, 204);
    await waitFor(async () => (await albumFiles()).length === 0, 'the album files deleted');
    assert.equal((await api(app.baseUrl, 'GET', `/albums/${id}`)).status, 404);
  });

  it('refuses bad album bodies, forged tokens and too many photos with a JSON 4xx, changing nothing', async () => {
    const created = await api(app.baseUrl, 'POST', '/albums', { title: 'Kept' });
    const id = created.body!.id as number;
    const plain = (await api(app.baseUrl, 'POST', '/photos', { title: 'No image' })).body!.id;
    const bad: [string, string, unknown, number, RegExp][] = [
      ['POST', '/albums', {}, 400, /title/],
      ['POST', '/albums', [], 400, /JSON object/],
      ['POST', '/albums', { title: 'x', photos: 'a' }, 400, /photos must be/],
      ['PATCH', `/albums/${id}`, { photos: ['same', 'same'] }, 400, /distinct/],
      [
        'PATCH',
        `/albums/${id}`,
        { photos: Array.from({ length: 13 }, (_, n) => `t${n}`) },
        400,
        /at most 12/,
      ],
      ['PATCH', `/albums/${id}`, { photos: ['not-a-token'] }, 400, /./],
      ['PATCH', '/albums/999999', { title: 'x' }, 404, /No album/],
      ['GET', '/albums/abc', undefined, 404, /No album/],
      ['GET', '/photos/999999/preview', undefined, 404, /No photo/],
      ['GET', `/photos/${plain}/preview`, undefined, 404, /has no image/],
      ['GET', `/photos/${plain}/placeholder`, undefined, 404, /no placeholder/],
      ['GET', '/page/..%2Fpage.controller.ts', undefined, 404, /No page file/],
    ];
    for (const [method, path, body, status, message] of bad) {
      const answer = await api(app.baseUrl, method, path, body);
      assert.equal(answer.status, status, `${method} ${path}: ${JSON.stringify(answer.body)}`);
      assert.match(String(answer.body?.message), message, `${method} ${path}`);
    }
    const kept = await api(app.baseUrl, 'GET', `/albums/${id}`);
    assert.deepEqual(kept.body, { id, title: 'Kept', photos: [] });
    assert.equal((await fetch(`${app.baseUrl}/photos/${plain}`, { method: 'DELETE' })).status, 204);
  });
});
