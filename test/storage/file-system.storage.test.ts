import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { FileTooLargeError, InvalidFileIdError } from '../../src/core/errors/index.js';
import { newFileId } from '../../src/core/index.js';
import { FileSystemStorage, MemoryStorage } from '../../src/storage/authoring.js';
import {
  listIds,
  readAll,
  storageContract,
  streamOf,
  UNSAFE_IDS,
} from '../../src/testing/index.js';

const DAY = 24 * 3600_000;
const makeTempDir = (): Promise<string> => fs.mkdtemp(path.join(tmpdir(), 'fs-storage-'));
const removeDir = (dir: string): Promise<void> => fs.rm(dir, { recursive: true, force: true });

/** Every file (not folder) under `dir`, relative, for "nothing leaked" checks. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => !entry.isDirectory())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

// The example of README.md's "Your own storage".
storageContract('FileSystemStorage (other: memory)', async () => {
  const dir = await fs.mkdtemp(path.join(tmpdir(), 'fs-contract-'));
  const storage = new FileSystemStorage({ directory: path.join(dir, 'root') });
  return { storage, other: new MemoryStorage(), teardown: () => fs.rm(dir, { recursive: true }) };
});

storageContract('FileSystemStorage (other: file system)', async () => {
  const [dir, otherDir] = await Promise.all([makeTempDir(), makeTempDir()]);
  return {
    storage: new FileSystemStorage({ directory: dir }),
    other: new FileSystemStorage({ directory: otherDir }),
    teardown: async () => {
      await Promise.all([removeDir(dir), removeDir(otherDir)]);
    },
  };
});

describe('FileSystemStorage', () => {
  let base: string;
  let root: string;
  let storage: FileSystemStorage;
  let counter = 0;

  before(async () => {
    base = await makeTempDir();
  });
  after(() => removeDir(base));

  const idsListed = async (options?: { modifiedBefore: Date }): Promise<string[]> => {
    const ids: string[] = [];
    for await (const entry of storage.list(undefined, options)) ids.push(entry.id);
    return ids.sort();
  };

  /** A fresh storage for each test, rooted two levels below `base` to catch escapes. */
  const freshStorage = async (options: { permissions?: number } = {}): Promise<void> => {
    root = path.join(base, `case-${++counter}`, 'nested', 'root');
    storage = new FileSystemStorage({ directory: root, ...options });
  };

  it('creates the root lazily', async () => {
    await freshStorage();
    assert.equal(await storage.stat('a.txt'), null);
    assert.deepEqual(await listIds(storage), []);
    await assert.rejects(fs.stat(root), { code: 'ENOENT' });
    await storage.upload('a.txt', Buffer.from('x'));
    assert.ok((await fs.stat(root)).isDirectory());
  });

  it('hard-links copies between storages on one filesystem', async () => {
    await freshStorage();
    const target = new FileSystemStorage({ directory: path.join(base, `case-${counter}`, 'b') });
    await storage.upload('src/a.bin', Buffer.from('linked bytes'));
    const method = await target.copy(storage, 'src/a.bin', 'dst/a.bin');
    assert.ok(method === 'link' || method === 'clone', method);
    const [from, to] = await Promise.all([
      fs.stat(path.join(root, 'src/a.bin')),
      fs.stat(path.join(target.directory, 'dst/a.bin')),
    ]);
    if (method === 'link') assert.equal(to.ino, from.ino);
    assert.equal((await readAll(await target.open('dst/a.bin'))).toString(), 'linked bytes');
    assert.deepEqual(await filesUnder(path.join(target.directory, '.uploading')), []);
  });

  it('copies onto itself without leaving temp files', async () => {
    await freshStorage();
    await storage.upload('a.txt', Buffer.from('same'));
    await storage.copy(storage, 'a.txt', 'a.txt');
    assert.equal((await readAll(await storage.open('a.txt'))).toString(), 'same');
    assert.deepEqual(await filesUnder(path.join(root, '.uploading')), []);
  });

  it('streams copies into another kind of storage', async () => {
    await freshStorage();
    await storage.upload('a.txt', Buffer.from('hello'));
    const memory = new MemoryStorage();
    assert.equal(await memory.copy(storage, 'a.txt', 'b.txt'), 'stream');
    assert.equal((await readAll(await memory.open('b.txt'))).toString(), 'hello');
  });

  it('refuses symlinks that lead outside the root', async () => {
    await freshStorage();
    const outside = path.join(base, `case-${counter}`, 'outside');
    await fs.mkdir(outside, { recursive: true });
    await fs.writeFile(path.join(outside, 'secret.txt'), 'secret');
    await storage.upload('keep.txt', Buffer.from('x'));
    await fs.symlink(outside, path.join(root, 'dir-link'));
    await fs.symlink(path.join(outside, 'secret.txt'), path.join(root, 'file-link'));
    await fs.symlink(path.join(outside, 'nowhere'), path.join(root, 'dangling'));

    for (const id of ['dir-link/secret.txt', 'file-link', 'dangling']) {
      await assert.rejects(storage.open(id), InvalidFileIdError, `open ${id}`);
      await assert.rejects(storage.stat(id), InvalidFileIdError, `stat ${id}`);
      await assert.rejects(storage.upload(id, Buffer.from('pwned')), InvalidFileIdError, id);
    }
    await assert.rejects(
      storage.upload('dir-link/new.txt', Buffer.from('pwned')),
      InvalidFileIdError,
    );
    await assert.rejects(storage.delete('dir-link/secret.txt'), InvalidFileIdError);
    await assert.rejects(storage.copy(storage, 'file-link', 'copy.txt'), InvalidFileIdError);
    assert.deepEqual(await filesUnder(outside), ['secret.txt']);
    assert.equal(await fs.readFile(path.join(outside, 'secret.txt'), 'utf8'), 'secret');
    assert.deepEqual(await listIds(storage), ['keep.txt']);
    assert.deepEqual(await listIds(storage, 'dir-link/'), []);
  });

  it('never writes outside the root for unsafe ids', async () => {
    await freshStorage();
    await storage.upload('good.txt', Buffer.from('x'));
    for (const bad of UNSAFE_IDS) {
      await assert.rejects(storage.upload(bad, Buffer.from('pwned')), InvalidFileIdError);
      await assert.rejects(storage.copy(storage, 'good.txt', bad), InvalidFileIdError);
    }
    assert.deepEqual(await filesUnder(path.join(base, `case-${counter}`)), [
      path.join('nested', 'root', 'good.txt'),
    ]);
  });

  it('leaves .uploading empty after failed uploads', async () => {
    await freshStorage();
    const chunks = [Buffer.alloc(4096), Buffer.alloc(4096)];
    await assert.rejects(
      storage.upload('a.bin', streamOf(chunks), { maxSize: 5000 }),
      FileTooLargeError,
    );
    await assert.rejects(storage.upload('b.bin', streamOf(chunks, new Error('boom'))), /boom/);
    await assert.rejects(storage.upload('c.bin', streamOf([], new Error('early'))), /early/);
    assert.deepEqual(await fs.readdir(path.join(root, '.uploading')), []);
    assert.deepEqual(await filesUnder(root), []);
  });

  it('removes only old incomplete uploads', async () => {
    await freshStorage();
    const temp = path.join(root, '.uploading');
    await fs.mkdir(temp, { recursive: true });
    await fs.writeFile(path.join(temp, 'old'), 'partial');
    await fs.writeFile(path.join(temp, 'fresh'), 'partial');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    await fs.utimes(path.join(temp, 'old'), twoHoursAgo, twoHoursAgo);
    assert.equal(await storage.removeIncompleteUploads(new Date(Date.now() - 3600_000)), 1);
    assert.deepEqual(await fs.readdir(temp), ['fresh']);
    await freshStorage();
    assert.equal(await storage.removeIncompleteUploads(new Date()), 0);
  });

  it('prunes emptied folders on delete, but never the root', async () => {
    await freshStorage();
    await storage.upload('a/b/c.txt', Buffer.from('1'));
    await storage.upload('a/d.txt', Buffer.from('2'));
    await storage.delete('a/b/c.txt');
    await assert.rejects(fs.stat(path.join(root, 'a/b')), { code: 'ENOENT' });
    assert.ok((await fs.stat(path.join(root, 'a'))).isDirectory());
    await storage.delete('a/d.txt');
    await assert.rejects(fs.stat(path.join(root, 'a')), { code: 'ENOENT' });
    assert.ok((await fs.stat(root)).isDirectory());
    await storage.delete('gone/missing.txt');
    assert.ok((await fs.stat(root)).isDirectory());
  });

  it('uploads into a folder that a concurrent delete is pruning', async () => {
    await freshStorage();
    for (let round = 0; round < 30; round++) {
      await storage.upload('d/e/old.txt', Buffer.from('old'));
      await Promise.all([
        storage.delete('d/e/old.txt'),
        storage.upload(`d/e/new-${round}.txt`, Buffer.from('new')),
      ]);
      assert.deepEqual(await listIds(storage), [`d/e/new-${round}.txt`]);
      await storage.delete(`d/e/new-${round}.txt`);
    }
  });

  it('applies the file mode regardless of the umask', async () => {
    await freshStorage({ permissions: 0o640 });
    await storage.upload('a.txt', Buffer.from('x'));
    assert.equal((await fs.stat(path.join(root, 'a.txt'))).mode & 0o777, 0o640);
    await freshStorage();
    await storage.upload('a.txt', streamOf([Buffer.from('x')]));
    assert.equal((await fs.stat(path.join(root, 'a.txt'))).mode & 0o777, 0o644);
  });

  it('builds URLs from baseUrl or as file:// URLs', async () => {
    await freshStorage();
    assert.equal(await storage.url('a b/c.txt'), pathToFileURL(path.join(root, 'a b/c.txt')).href);
    const served = new FileSystemStorage({ directory: root, baseUrl: 'https://cdn.test/files/' });
    assert.equal(await served.url('a b/c#1.txt'), 'https://cdn.test/files/a%20b/c%231.txt');
  });

  it('lists with modifiedBefore: leaves out files named after it, keeps old and other names', async () => {
    await freshStorage();
    const now = Date.now();
    const cutoff = new Date(now - DAY);
    const write = async (id: string, modifiedAt = now) => {
      await storage.upload(id, Buffer.from(id));
      await fs.utimes(path.join(root, id), new Date(modifiedAt), new Date(modifiedAt));
      return id;
    };
    const young = [await write(newFileId('.png')), await write(`u1.claim/${newFileId('.png')}`)];
    const listed = [
      await write(newFileId('.png', now - 2 * DAY), now - 2 * DAY),
      await write(`${randomUUID()}.png`, now - 2 * DAY), // named by an earlier release
      await write(`${randomUUID()}.png`), // young, but its name cannot tell
      await write('notes/today.txt'),
      // Named a little after the cutoff, stamped a little before it (a coarse mtime).
      await write(newFileId('.png', cutoff.getTime() + 1000), cutoff.getTime() - 1000),
    ];
    assert.deepEqual(await idsListed({ modifiedBefore: cutoff }), [...listed].sort());
    assert.deepEqual(await idsListed(), [...young, ...listed].sort());
  });

  it('lists a folder larger than one read, while its files are being deleted', async () => {
    await freshStorage();
    const ids = Array.from({ length: 700 }, (_, n) => `f${String(n).padStart(4, '0')}.bin`);
    for (const id of ids) await storage.upload(id, Buffer.from('x'));
    const seen: string[] = [];
    for await (const entry of storage.list()) {
      seen.push(entry.id);
      await storage.delete(entry.id);
    }
    assert.deepEqual(seen.sort(), ids);
    assert.deepEqual(await listIds(storage), []);
  });

  it('treats folders as missing files', async () => {
    await freshStorage();
    await storage.upload('a/b.txt', Buffer.from('x'));
    assert.equal(await storage.stat('a'), null);
    await assert.rejects(storage.open('a'), { code: 'file_not_found' });
    assert.equal(await storage.stat('a/b.txt/c'), null);
  });
});
