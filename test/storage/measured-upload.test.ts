import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer, text } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import { HEAD_BYTES } from '../../src/core/index.js';
import { MemoryStorage, uploadNamedByType } from '../../src/storage/index.js';
import { streamedPng } from '../support/fixtures.js';
import { chunksOf } from '../support/streams.js';

const named = (extension: string) => `file${extension}`;

describe('uploadNamedByType', () => {
  it('stores a file longer than the head whole, named by the type of its bytes', async () => {
    const storage = new MemoryStorage();
    const file = Buffer.concat([...streamedPng(HEAD_BYTES * 2 + 100, 64 * 1024)]);
    const { id, metadata } = await uploadNamedByType(
      storage,
      named,
      Readable.from(chunksOf(file, 64 * 1024)),
      { filename: null },
    );
    assert.equal(id, 'file.png');
    assert.ok((await buffer(await storage.open(id))).equals(file));
    assert.equal(metadata.size, file.length);
    assert.equal(metadata.sha256, createHash('sha256').update(file).digest('hex'));
  });

  it('reads text from a source in object mode, as bytes', async () => {
    const storage = new MemoryStorage();
    const { id, metadata } = await uploadNamedByType(
      storage,
      named,
      Readable.from(['héllo ', 'world']),
      { filename: 'a.txt' },
    );
    assert.equal(id, 'file.txt');
    assert.equal(await text(await storage.open(id)), 'héllo world');
    assert.equal(metadata.size, Buffer.byteLength('héllo world'));
  });

  it('refuses a source in object mode that yields neither bytes nor text', async () => {
    await assert.rejects(
      uploadNamedByType(new MemoryStorage(), named, Readable.from([{ not: 'bytes' }]), {
        filename: null,
      }),
      TypeError,
    );
  });

  for (const at of [10 * 1024, HEAD_BYTES + 64 * 1024]) {
    it(`fails, and stores nothing, when the source closes early at ${at} bytes`, async () => {
      const storage = new MemoryStorage();
      // Closed, with no error, when asked for more than `at` bytes.
      let sent = 0;
      const source = new Readable({
        read() {
          if (sent >= at) return void this.destroy();
          const chunk = Buffer.alloc(Math.min(16 * 1024, at - sent), 1);
          sent += chunk.length;
          this.push(chunk);
        },
      });
      await assert.rejects(
        uploadNamedByType(storage, named, source, { filename: null }),
        (error: NodeJS.ErrnoException) => error.code === 'ERR_STREAM_PREMATURE_CLOSE',
      );
      for await (const _ of storage.list()) assert.fail('nothing is stored');
    });
  }
});
