import '../support/harness.js';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, afterEach, describe, it } from 'node:test';
import {
  AttachmentEvents,
  AttachmentSerializer,
  FileSystemStorage,
  FileTooLargeError,
  type AttachmentEvent,
} from '../../src/index.js';
import { verifyUploadToken } from '../../src/core/index.js';
import type { ByteRange, StoredObjectStat } from '../../src/storage/authoring.js';
import { DelegatingStorage } from '../support/delegating-storage.js';
import { Photo } from '../support/entities.js';
import { png } from '../support/fixtures.js';
import { SECRET, waitFor, waitForIdle } from '../support/harness.js';
import { useHarness } from '../support/suite.js';

/** Counts the looks at files: stats and opens (whole or ranged). */
class CountingStorage extends DelegatingStorage {
  looks = 0;

  override stat(id: string): Promise<StoredObjectStat | null> {
    this.looks++;
    return super.stat(id);
  }

  override open(id: string, range?: ByteRange): Promise<Readable> {
    this.looks++;
    return super.open(id, range);
  }
}

describe('a token from cache() carries what was measured, signed', () => {
  const directory = join(tmpdir(), `attachments-measured-${randomUUID()}`);
  const cache = new CountingStorage(new FileSystemStorage({ directory: join(directory, 'cache') }));
  const suite = useHarness('postgres', [Photo], {
    storages: { cache, store: new FileSystemStorage({ directory: join(directory, 'store') }) },
  });
  afterEach(() => waitForIdle(suite.harness, suite.db.dataSource));
  after(() => rm(directory, { recursive: true, force: true }));

  it('attach() takes the metadata from the token, without a look at the cached file', async () => {
    const { harness, db } = suite;
    const { token, file } = await harness.attachments.cache(png(12, 7), { filename: 'm.png' });
    assert.deepEqual(verifyUploadToken(token, SECRET).measured, {
      size: file.metadata.size,
      mimeType: 'image/png',
      width: 12,
      height: 7,
    });
    const photo = db.dataSource.getRepository(Photo).create({ title: 'measured' });
    const looks = cache.looks;
    const attached = await harness.attachments.attach(photo, 'image', token);
    assert.equal(cache.looks, looks, 'no stat and no read at attach()');
    assert.deepEqual(attached, file, 'the same file and metadata that cache() measured');
    await db.dataSource.getRepository(Photo).save(photo);
  });

  it('a token without the measurement (issued before it existed) is measured at attach()', async () => {
    const { harness } = suite;
    const { file } = await harness.attachments.cache(png(9, 5), { filename: 'old.png' });
    const older = harness.attachments.issueToken({
      id: file.id,
      filename: file.metadata.filename,
      sha256: file.metadata.sha256,
    });
    assert.equal(verifyUploadToken(older, SECRET).measured, undefined);
    const photo = suite.db.dataSource.getRepository(Photo).create({ title: 'old token' });
    const looks = cache.looks;
    assert.deepEqual(await harness.attachments.attach(photo, 'image', older), file);
    assert.ok(cache.looks > looks, 'the cached file was inspected');
    await harness.storages.cache!.delete(file.id);
  });

  it("the measurement is held to the attachment's own rules, and the file refused is deleted", async () => {
    const { harness } = suite;
    const big = await harness.attachments.cache(Buffer.alloc(2 * 1024 * 1024, 3));
    const photo = suite.db.dataSource.getRepository(Photo).create({ title: 'too big' });
    await assert.rejects(harness.attachments.attach(photo, 'image', big.token), FileTooLargeError);
    assert.equal(await cache.stat(big.file.id), null);
  });

  it('a cached file removed behind its back: the save goes through and its promotion visibly fails', async () => {
    const { harness, db } = suite;
    const photos = db.dataSource.getRepository(Photo);
    const seen: AttachmentEvent[] = [];
    const subscription = harness.app
      .get(AttachmentEvents, { strict: false })
      .events$.subscribe((event) => seen.push(event));
    try {
      const { token, file } = await harness.attachments.cache(png(4, 4), { filename: 'gone.png' });
      await cache.delete(file.id); // by hand, while the token is live
      const photo = photos.create({ title: 'gone' });
      await harness.attachments.attach(photo, 'image', token);
      await photos.save(photo);
      const [failed] = await waitFor(async () => {
        const rows = await harness.work.forRecord(photo);
        return rows[0]?.status === 'failed' && rows;
      }, 'the promotion to fail for good');
      assert.equal(failed!.kind, 'promote');
      const serializer = harness.app.get(AttachmentSerializer, { strict: false });
      const loaded = await photos.findOneByOrFail({ id: photo.id });
      assert.equal((await serializer.serialize(loaded, 'image'))?.state, 'failed');
      await waitFor(async () => seen.some((event) => event.type === 'failed'), 'the event');
    } finally {
      subscription.unsubscribe();
    }
  });
});
