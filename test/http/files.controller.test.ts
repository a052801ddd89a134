import '../support/harness.js';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { FileSystemStorage, type UploadedFile } from '../../src/index.js';
import { contentDisposition } from '../../src/core/index.js';
import { Photo } from '../support/entities.js';
import { png } from '../support/fixtures.js';
import { waitFor, type Harness } from '../support/harness.js';
import { rawRequest, readThenHangUp } from '../support/http-client.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { PLATFORMS } from '../support/platforms.js';
import { useHarness } from '../support/suite.js';
import { WatchedStorage } from '../support/watched-storage.js';

for (const platform of PLATFORMS) {
  describe(`GET /attachments/files/:storage/*id on ${platform}`, () => {
    // The cache is served only through signed URLs; the store is public.
    const suite = useHarness('sqlite', [Photo], {
      http: true,
      platform,
      signedStorages: ['cache'],
    });
    let harness: Harness;
    let stored: UploadedFile;
    const bytes = png(20, 10, 3);

    before(async () => {
      harness = suite.harness;
      await harness.storages.store!.upload('photo/1/image/pic.png', bytes);
      stored = {
        id: 'photo/1/image/pic.png',
        storage: 'store',
        metadata: { filename: 'pic.png', size: bytes.length, mimeType: 'image/png' },
      };
    });

    const get = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
      rawRequest(`${harness.baseUrl}${path}`, { method, headers });

    it('serves a public file with validators and headers that keep it inert', async () => {
      const url = await harness.attachments.url(stored);
      assert.equal(url, '/attachments/files/store/photo/1/image/pic.png?filename=pic.png');
      const answer = (await get(url))!;
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.body, bytes);
      assert.equal(answer.headers['content-type'], 'image/png');
      assert.equal(answer.headers['content-length'], String(bytes.length));
      assert.equal(answer.headers['x-content-type-options'], 'nosniff');
      assert.match(String(answer.headers['content-security-policy']), /sandbox/);
      assert.equal(
        answer.headers['content-disposition'],
        `inline; filename="pic.png"; filename*=UTF-8''pic.png`,
      );
      assert.ok(answer.headers.etag && answer.headers['last-modified']);

      assert.equal((await get(url, { 'if-none-match': answer.headers.etag! }))!.status, 304);
      assert.equal(
        (await get(url, { 'if-modified-since': answer.headers['last-modified']! }))!.status,
        304,
      );
      assert.equal((await get(url, { 'if-none-match': 'W/"other"' }))!.status, 200);
      const head = (await get(url, {}, 'HEAD'))!;
      assert.equal(head.status, 200);
      assert.equal(head.body.length, 0);
    });

    it('answers byte ranges with 206, and 416 outside the file', async () => {
      const url = '/attachments/files/store/photo/1/image/pic.png';
      const first = (await get(url, { range: 'bytes=0-9' }))!;
      assert.equal(first.status, 206);
      assert.equal(first.headers['content-range'], `bytes 0-9/${bytes.length}`);
      assert.deepEqual(first.body, bytes.subarray(0, 10));
      const suffix = (await get(url, { range: 'bytes=-5' }))!;
      assert.deepEqual(suffix.body, bytes.subarray(bytes.length - 5));
      const open = (await get(url, { range: 'bytes=8-' }))!;
      assert.deepEqual(open.body, bytes.subarray(8));
      const beyond = (await get(url, { range: `bytes=${bytes.length}-` }))!;
      assert.equal(beyond.status, 416);
      assert.equal(beyond.headers['content-range'], `bytes */${bytes.length}`);
      // A stale If-Range means the client's partial copy is outdated: the whole file comes back.
      const stale = (await get(url, { range: 'bytes=0-9', 'if-range': 'W/"stale"' }))!;
      assert.equal(stale.status, 200);
      assert.equal(stale.body.length, bytes.length);
    });

    it('ignores If-Modified-Since, If-Unmodified-Since and If-Range dates that do not parse', async () => {
      const url = '/attachments/files/store/photo/1/image/pic.png';
      const lastModified = (await get(url))!.headers['last-modified']!;
      const date = new Date(lastModified);
      const later = new Date(date.getTime() + 3600_000).toUTCString();
      const earlier = new Date(date.getTime() - 3600_000).toUTCString();
      // Strings Date.parse() reads as dates, though none is an HTTP-date.
      const invalid = [
        '3000',
        '2099-01-01',
        'tomorrow 3000',
        `${lastModified} junk`,
        `${later}, ${later}`,
      ];
      invalid.push('Mon, 31 Feb 3000 00:00:00 GMT', 'Mon, 01 Jan 3000 25:00:00 GMT');
      for (const value of invalid) {
        const full = (await get(url, { 'if-modified-since': value }))!;
        assert.equal(full.status, 200, `If-Modified-Since: ${value}`);
        assert.deepEqual(full.body, bytes);
        const unchecked = (await get(url, { 'if-unmodified-since': value }))!;
        assert.equal(unchecked.status, 200, `If-Unmodified-Since: ${value}`);
        const whole = (await get(url, { range: 'bytes=0-9', 'if-range': value }))!;
        assert.equal(whole.status, 200, `If-Range: ${value}`);
        assert.equal(whole.body.length, bytes.length);
      }
      // The three formats RFC 9110 asks a recipient to read all name the same second.
      for (const value of [lastModified, later, rfc850(date), asctime(date)]) {
        assert.equal((await get(url, { 'if-modified-since': value }))!.status, 304, value);
      }
      assert.equal((await get(url, { 'if-modified-since': earlier }))!.status, 200);
      const changed = (await get(url, { 'if-unmodified-since': earlier }))!;
      assert.equal(changed.status, 412);
      assert.equal(changed.body.length, 0);
      assert.equal((await get(url, { 'if-unmodified-since': lastModified }))!.status, 200);
      for (const value of [lastModified, rfc850(date), asctime(date)]) {
        const part = (await get(url, { range: 'bytes=0-9', 'if-range': value }))!;
        assert.equal(part.status, 206, `If-Range: ${value}`);
      }
    });

    it('cannot be made to inject headers or run content from an upload', async () => {
      await harness.storages.store!.upload('page.html', Buffer.from('<script>alert(1)</script>'));
      const evil = encodeURIComponent('x"\r\nSet-Cookie: a=b\r\n.html');
      const answer = (await get(`/attachments/files/store/page.html?filename=${evil}`))!;
      assert.equal(answer.status, 200);
      assert.equal(answer.headers['set-cookie'], undefined);
      assert.equal(answer.headers['content-type'], 'application/octet-stream');
      assert.match(
        answer.headers['content-disposition']!,
        /^attachment; filename="x___Set-Cookie: a=b__\.html"; filename\*=UTF-8''x%22%0D%0ASet-Cookie/,
      );
      assert.equal(
        contentDisposition('inline', 'résumé "final".pdf'),
        `inline; filename="r_sum_ _final_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf`,
      );
    });

    it('answers 404 for unknown storages and files, 400 for ids that escape the root', async () => {
      for (const path of [
        '/attachments/files/nope/a.png',
        '/attachments/files/store/missing.png',
      ]) {
        const answer = (await get(path))!;
        assert.equal(answer.status, 404);
        assert.equal(answer.json?.code, 'file_not_found');
      }
      const escape = (await get('/attachments/files/store/..%2F..%2Fetc%2Fpasswd'))!;
      assert.equal(escape.status, 400);
      assert.equal(escape.json?.code, 'invalid_file_id');
    });

    it('serves signed storages only through valid, unexpired signatures', async () => {
      const { token: _token, file } = await harness.attachments.cache(png(4, 4), {
        filename: 'c.png',
      });
      const url = await harness.attachments.url(file, { expiresIn: 60 });
      assert.match(
        url,
        /^\/attachments\/files\/cache\/[0-9a-f-]+\.png\?filename=c\.png&expires=\d+&signature=/,
      );
      assert.equal((await get(url))!.status, 200);
      assert.match((await get(url))!.headers['cache-control']!, /^private, max-age=(59|60)$/);

      const unsigned = url.slice(0, url.indexOf('&expires'));
      const refusals = [
        unsigned,
        url.replace(/signature=./, 'signature=A'),
        url.replace('filename=c.png', 'filename=other.png'),
        url.replace(/expires=\d+/, `expires=${Date.now() + 10_000_000}`),
      ];
      for (const refused of refusals) {
        const answer = (await get(refused))!;
        assert.equal(answer.status, 403, refused);
        assert.equal(answer.json?.code, 'invalid_file_url');
      }
      const expired = await harness.attachments.url(file, { expiresIn: -1 });
      assert.match(String((await get(expired))!.json?.message), /expired/);
    });
  });
}

for (const platform of PLATFORMS) {
  describe(`the files endpoint when a client closes its connection on ${platform}`, () => {
    const MiB = 1024 * 1024;
    // More than the socket buffers of both ends hold, so the server is still sending at a hang-up.
    const size = 40 * MiB;
    const directory = join(tmpdir(), `attachments-served-${randomUUID()}`);
    const store = new WatchedStorage(
      new FileSystemStorage({ directory: join(directory, 'store') }),
    );
    const logger = new RecordingLogger();
    const suite = useHarness('sqlite', [Photo], {
      http: true,
      platform,
      logger,
      storages: { cache: new FileSystemStorage({ directory: join(directory, 'cache') }), store },
    });
    after(() => rm(directory, { recursive: true, force: true }));
    beforeEach(() => (logger.errors.length = 0));
    const url = (id: string) => `${suite.harness.baseUrl}/attachments/files/store/${id}`;

    before(async () => {
      await store.upload('video.bin', Buffer.alloc(size, 7));
      await store.upload('small.png', png(3, 3));
    });

    /** Until every file the endpoint opened is closed again: its request is over, server side. */
    const released = () =>
      waitFor(async () => store.opened > 0 && store.closed === store.opened, 'the file released');

    async function stillServes() {
      const answer = (await rawRequest(url('small.png'), { method: 'GET' }))!;
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.body, png(3, 3));
    }

    it('logs no error when the client leaves midway, and closes the file', async () => {
      const answer = await readThenHangUp(url('video.bin'), MiB);
      assert.equal(answer.status, 200);
      assert.equal(answer.complete, false);
      await released();
      await stillServes();
      assert.deepEqual(logger.errors, []);
    });

    it('logs no error when the client hangs up right after the whole body', async () => {
      const answer = await readThenHangUp(url('video.bin'));
      assert.equal(answer.complete, true);
      assert.equal(answer.received, size);
      await released();
      await stillServes();
      assert.deepEqual(logger.errors, []);
    });

    it('still logs a storage failure and cuts the answer short', async () => {
      store.failNextOpen(new Error('disk read failed (injected)'));
      const answer = await readThenHangUp(url('video.bin'));
      assert.equal(answer.complete, false, 'the client sees a truncated answer, not a whole one');
      assert.ok(answer.received < size);
      await released();
      await waitFor(async () => logger.errors.length > 0, 'the failure to be logged');
      assert.match(logger.errors.join('\n'), /disk read failed \(injected\)/);
      await stillServes();
    });
  });
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' ');
const two = (n: number) => String(n).padStart(2, '0');
const clock = (d: Date) =>
  `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;

/** The obsolete RFC 850 form of an HTTP-date: `Sunday, 06-Nov-94 08:49:37 GMT`. */
function rfc850(d: Date): string {
  const year = two(d.getUTCFullYear() % 100);
  return `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${year} ${clock(d)} GMT`;
}

/** The obsolete asctime() form of an HTTP-date: `Sun Nov  6 08:49:37 1994`. */
function asctime(d: Date): string {
  const day = String(d.getUTCDate()).padStart(2, ' ');
  return `${DAYS[d.getUTCDay()]!.slice(0, 3)} ${MONTHS[d.getUTCMonth()]} ${day} ${clock(d)} ${d.getUTCFullYear()}`;
}
