import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  FileNotFoundError,
  FileTooLargeError,
  InvalidFileIdError,
  newFileId,
} from '../core/index.js';
import type { Storage } from '../storage/index.js';
import { listIds, readAll, streamOf, UNSAFE_IDS } from './storage-helpers.js';

export interface ContractSetup {
  /** The storage under test. Each test writes under a folder of its own, so it may be shared. */
  storage: Storage;
  /** A storage of another kind to copy from, for the path without a server-side shortcut. */
  other?: Storage;
  /** Runs once, after the last test: stop servers, remove folders. */
  teardown?: () => Promise<void>;
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/**
 * What every storage must do for the library to rely on it: atomic uploads, ranges, deletes
 * that ignore missing files, copies, listing, size limits and refused ids. Registers node:test
 * suites; call it at the top level of a test file, with a setup that builds the storage.
 */
export function storageContract(name: string, setup: () => Promise<ContractSetup>): void {
  describe(`${name} storage contract`, () => {
    let storage: Storage;
    let other: Storage | undefined;
    let teardown: (() => Promise<void>) | undefined;
    const run = `contract-${randomBytes(6).toString('hex')}`;
    let counter = 0;
    /** A folder no other test uses, so tests cannot see each other's files. */
    const fresh = (): string => `${run}/${++counter}`;
    const bytes = Buffer.from(Array.from({ length: 100 }, (_, i) => i));

    before(async () => {
      ({ storage, other, teardown } = await setup());
    });
    after(async () => {
      await teardown?.();
    });

    it('stores a Buffer and opens the same bytes', async () => {
      const id = `${fresh()}/file.bin`;
      await storage.upload(id, bytes);
      assert.deepEqual(await readAll(await storage.open(id)), bytes);
      const stat = await storage.stat(id);
      assert.equal(stat?.size, bytes.length);
      assert.ok(stat?.lastModified instanceof Date);
    });

    it('stores a multi-chunk stream (3 MB) intact', async () => {
      const id = `${fresh()}/big.bin`;
      const chunks = Array.from({ length: 48 }, () => randomBytes(64 * 1024));
      const whole = Buffer.concat(chunks);
      await storage.upload(id, streamOf(chunks));
      const read = await readAll(await storage.open(id));
      assert.equal(read.length, 3 * 1024 * 1024);
      assert.equal(sha256(read), sha256(whole));
    });

    it('overwrites on a second upload', async () => {
      const id = `${fresh()}/file.txt`;
      await storage.upload(id, Buffer.from('first version'));
      await storage.upload(id, Buffer.from('second'));
      assert.equal((await readAll(await storage.open(id))).toString(), 'second');
      assert.equal((await storage.stat(id))?.size, 6);
    });

    it('opens byte ranges', async () => {
      const id = `${fresh()}/range.bin`;
      await storage.upload(id, bytes);
      const read = async (start: number, end?: number): Promise<Buffer> =>
        readAll(await storage.open(id, { start, end }));
      assert.deepEqual(await read(90), bytes.subarray(90));
      assert.deepEqual(await read(10, 19), bytes.subarray(10, 20));
      assert.deepEqual(await read(99, 99), Buffer.from([99]));
      assert.deepEqual(await read(0, 0), Buffer.from([0]));
      assert.deepEqual(await read(0, 99), bytes);
    });

    it('rejects impossible ranges with RangeError', async () => {
      const id = `${fresh()}/range.bin`;
      await storage.upload(id, bytes);
      await assert.rejects(storage.open(id, { start: 100 }), RangeError);
      await assert.rejects(storage.open(id, { start: 50, end: 100 }), RangeError);
      await assert.rejects(storage.open(id, { start: 5, end: 4 }), RangeError);
      await assert.rejects(storage.open(id, { start: -1 }), RangeError);
    });

    it('reports missing files', async () => {
      const id = `${fresh()}/missing.bin`;
      await assert.rejects(storage.open(id), FileNotFoundError);
      await assert.rejects(storage.open(id, { start: 0, end: 0 }), FileNotFoundError);
      assert.equal(await storage.stat(id), null);
    });

    it('deletes idempotently', async () => {
      const id = `${fresh()}/file.txt`;
      await storage.upload(id, Buffer.from('x'));
      await storage.delete(id);
      assert.equal(await storage.stat(id), null);
      await storage.delete(id);
      await storage.delete(`${fresh()}/never-existed.txt`);
    });

    it('deletes many, ignoring missing ids', async () => {
      const folder = fresh();
      const present = [`${folder}/a.txt`, `${folder}/b/c.txt`, `${folder}/d.txt`];
      for (const id of present) await storage.upload(id, Buffer.from(id));
      await storage.deleteMany([present[0], `${folder}/missing.txt`, present[1]]);
      assert.deepEqual(await listIds(storage, `${folder}/`), [present[2]]);
      await storage.deleteMany([]);
    });

    it('handles nested ids and lists them with sizes', async () => {
      const folder = fresh();
      await storage.upload(`${folder}/a/b/c.txt`, Buffer.from('hello'));
      await storage.upload(`${folder}/a/d.txt`, Buffer.from('hi'));
      const entries = [];
      for await (const entry of storage.list(`${folder}/`)) entries.push(entry);
      entries.sort((x, y) => x.id.localeCompare(y.id));
      assert.deepEqual(
        entries.map(({ id, size }) => ({ id, size })),
        [
          { id: `${folder}/a/b/c.txt`, size: 5 },
          { id: `${folder}/a/d.txt`, size: 2 },
        ],
      );
      assert.ok(entries.every((entry) => entry.lastModified instanceof Date));
      assert.equal((await readAll(await storage.open(`${folder}/a/b/c.txt`))).toString(), 'hello');
    });

    it('filters list() by prefix', async () => {
      const folder = fresh();
      for (const id of ['a/b/c.txt', 'a/d.txt', 'a/bc.txt', 'e.txt']) {
        await storage.upload(`${folder}/${id}`, Buffer.from('x'));
      }
      assert.deepEqual(await listIds(storage, `${folder}/a/b/`), [`${folder}/a/b/c.txt`]);
      assert.deepEqual(await listIds(storage, `${folder}/a/b`), [
        `${folder}/a/b/c.txt`,
        `${folder}/a/bc.txt`,
      ]);
      assert.deepEqual(await listIds(storage, `${folder}/a/d`), [`${folder}/a/d.txt`]);
      assert.deepEqual(await listIds(storage, `${folder}/zzz`), []);
      assert.deepEqual(await listIds(storage, `${folder}/nope/`), []);
      const all = await listIds(storage);
      assert.ok(all.includes(`${folder}/e.txt`) && all.includes(`${folder}/a/b/c.txt`));
    });

    it('lists, with modifiedBefore, every file modified before it', async () => {
      const folder = fresh();
      // Names as the library makes them (time-ordered), as earlier releases did, and others.
      const ids = [
        `${folder}/${newFileId('.png')}`,
        `${folder}/a/${newFileId('')}`,
        `${folder}/${randomUUID()}.png`,
        `${folder}/notes.txt`,
      ];
      for (const id of ids) await storage.upload(id, Buffer.from(id));
      const stats = await Promise.all(ids.map((id) => storage.stat(id)));
      const lastWrite = Math.max(...stats.map((stat) => stat!.lastModified.getTime()));
      const listed: string[] = [];
      const modifiedBefore = new Date(lastWrite + 1);
      for await (const entry of storage.list(`${folder}/`, { modifiedBefore })) {
        listed.push(entry.id);
      }
      assert.deepEqual(listed.sort(), [...ids].sort());
      // Told the files are all too young, it may leave any out; what it lists is still there.
      for await (const entry of storage.list(`${folder}/`, { modifiedBefore: new Date(0) })) {
        assert.ok(ids.includes(entry.id), entry.id);
      }
    });

    it('copies within the storage', async () => {
      const folder = fresh();
      await storage.upload(`${folder}/source.bin`, bytes);
      const method = await storage.copy(storage, `${folder}/source.bin`, `${folder}/x/copy.bin`);
      assert.ok(['link', 'clone', 'server', 'stream'].includes(method));
      assert.deepEqual(await readAll(await storage.open(`${folder}/x/copy.bin`)), bytes);
      assert.deepEqual(await readAll(await storage.open(`${folder}/source.bin`)), bytes);
      // The copy is independent: replacing the source leaves it alone.
      await storage.upload(`${folder}/source.bin`, Buffer.from('changed'));
      assert.deepEqual(await readAll(await storage.open(`${folder}/x/copy.bin`)), bytes);
    });

    it('copies from another storage', async (t) => {
      if (!other) return t.skip('no other storage given');
      const folder = fresh();
      await other.upload(`${folder}/source.bin`, bytes);
      await storage.copy(other, `${folder}/source.bin`, `${folder}/copy.bin`);
      assert.deepEqual(await readAll(await storage.open(`${folder}/copy.bin`)), bytes);
      assert.ok(await other.stat(`${folder}/source.bin`), 'the source stays');
      await assert.rejects(
        storage.copy(other, `${folder}/missing.bin`, `${folder}/copy2.bin`),
        FileNotFoundError,
      );
      assert.equal(await storage.stat(`${folder}/copy2.bin`), null);
    });

    it('refuses to copy a missing source', async () => {
      const folder = fresh();
      await assert.rejects(
        storage.copy(storage, `${folder}/missing.bin`, `${folder}/copy.bin`),
        FileNotFoundError,
      );
      assert.equal(await storage.stat(`${folder}/copy.bin`), null);
    });

    it('enforces maxSize while streaming and keeps nothing', async () => {
      const folder = fresh();
      const id = `${folder}/big.bin`;
      const before = await listIds(storage);
      const chunks = Array.from({ length: 10 }, () => randomBytes(1024));
      await assert.rejects(storage.upload(id, streamOf(chunks), { maxSize: 5000 }), (error) => {
        assert.ok(error instanceof FileTooLargeError);
        assert.equal(error.maxSize, 5000);
        return true;
      });
      await assert.rejects(
        storage.upload(id, randomBytes(5001), { maxSize: 5000 }),
        FileTooLargeError,
      );
      assert.equal(await storage.stat(id), null);
      assert.deepEqual(await listIds(storage), before);
      await storage.upload(id, streamOf([randomBytes(2500), randomBytes(2500)]), { maxSize: 5000 });
      assert.equal((await storage.stat(id))?.size, 5000);
    });

    it('keeps nothing when the source stream fails midway', async () => {
      const id = `${fresh()}/broken.bin`;
      const before = await listIds(storage);
      const failure = new Error('connection reset');
      const source = streamOf([randomBytes(1024), randomBytes(1024)], failure);
      await assert.rejects(storage.upload(id, source), (error) => error === failure);
      assert.equal(await storage.stat(id), null);
      assert.deepEqual(await listIds(storage), before);
    });

    it('returns a URL naming the file', async () => {
      const id = `${fresh()}/hello wörld.txt`;
      const url = await storage.url(id);
      assert.equal(typeof url, 'string');
      assert.ok(url.includes(encodeURIComponent('hello wörld.txt')), url);
    });

    it('rejects unsafe ids in every method', async () => {
      const folder = fresh();
      const good = `${folder}/good.txt`;
      await storage.upload(good, Buffer.from('x'));
      const before = await listIds(storage);
      for (const bad of UNSAFE_IDS) {
        const calls: [string, () => Promise<unknown>][] = [
          ['upload', () => storage.upload(bad, Buffer.from('pwned'))],
          ['open', () => storage.open(bad)],
          ['stat', () => storage.stat(bad)],
          ['delete', () => storage.delete(bad)],
          ['deleteMany', () => storage.deleteMany([good, bad])],
          ['copy to', () => storage.copy(storage, good, bad)],
          ['copy from', () => storage.copy(storage, bad, `${folder}/copy.txt`)],
          ['url', () => storage.url(bad)],
        ];
        for (const [method, call] of calls) {
          await assert.rejects(call(), InvalidFileIdError, `${method}(${JSON.stringify(bad)})`);
        }
      }
      assert.deepEqual(await listIds(storage), before);
      assert.ok(await storage.stat(good), 'deleteMany must validate before deleting');
    });
  });
}
