import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStorage } from '../../src/storage/index.js';
import { readAll, storageContract, streamOf } from '../../src/testing/index.js';

storageContract('MemoryStorage', async () => ({
  storage: new MemoryStorage(),
  other: new MemoryStorage(),
}));

describe('MemoryStorage', () => {
  it('clones between memory storages', async () => {
    const [a, b] = [new MemoryStorage(), new MemoryStorage()];
    await a.upload('x/y.txt', Buffer.from('hello'), { contentType: 'text/plain' });
    assert.equal(await b.copy(a, 'x/y.txt', 'z.txt'), 'clone');
    const stat = await b.stat('z.txt');
    assert.equal(stat?.size, 5);
    assert.equal(stat?.contentType, 'text/plain');
    assert.equal((await readAll(await b.open('z.txt'))).toString(), 'hello');
  });

  it('does not share bytes with the caller', async () => {
    const storage = new MemoryStorage();
    const body = Buffer.from('hello');
    await storage.upload('a.txt', body);
    body.fill(0);
    const read = await readAll(await storage.open('a.txt'));
    assert.equal(read.toString(), 'hello');
    read.fill(0);
    assert.equal((await readAll(await storage.open('a.txt'))).toString(), 'hello');
  });

  it('keeps the content type and upload time', async () => {
    const storage = new MemoryStorage();
    const before = Date.now();
    await storage.upload('a.txt', streamOf([Buffer.from('he'), Buffer.from('llo')]), {
      contentType: 'text/plain',
    });
    const stat = await storage.stat('a.txt');
    assert.equal(stat?.contentType, 'text/plain');
    assert.equal(stat?.size, 5);
    assert.ok(stat && stat.lastModified.getTime() >= before);
  });

  it('builds memory:// URLs with encoded segments', async () => {
    assert.equal(await new MemoryStorage().url('a b/c#d.txt'), 'memory://a%20b/c%23d.txt');
  });
});
