import '../support/harness.js';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Repository } from 'typeorm';
import { AttachmentSerializer, type SerializedAttachment } from '../../src/index.js';
import { Photo } from '../support/entities.js';
import { png } from '../support/fixtures.js';
import { waitFor, waitForIdle, type Harness } from '../support/harness.js';
import { useHarness } from '../support/suite.js';

describe('AttachmentSerializer', () => {
  let holdPromotion = true;
  let failPromotion = false;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const suite = useHarness('postgres', [Photo], {
    http: true,
    jobOptions: { attempts: 2, backoff: { type: 'fixed', delay: 10 } },
    jobHooks: {
      onStep: async (step) => {
        if (step !== 'promote:before-copy') return;
        if (failPromotion) throw new Error('store down (injected)');
        if (holdPromotion) await released;
      },
    },
  });
  let harness: Harness;
  let photos: Repository<Photo>;
  let serializer: AttachmentSerializer;
  before(() => {
    harness = suite.harness;
    photos = suite.db.dataSource.getRepository(Photo);
    serializer = harness.app.get(AttachmentSerializer, { strict: false });
  });

  /** The URL in the answer really serves the file's bytes. */
  async function servesBytes(answer: SerializedAttachment | null, bytes: Buffer) {
    assert.ok(answer);
    const response = await fetch(`${harness.baseUrl}${answer.url}`);
    assert.equal(response.status, 200);
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), bytes);
  }

  it('says cached, then stored, with a URL that works in both states', async () => {
    const bytes = png(5, 5, 1);
    const photo = photos.create({ title: 'pending' });
    await harness.attachments.attach(photo, 'image', bytes, { filename: 'p.png' });
    await photos.save(photo);
    const cached = await serializer.serialize(photo, 'image');
    assert.equal(cached?.state, 'cached');
    assert.match(cached!.url, /^\/attachments\/files\/cache\//);
    assert.equal(cached?.metadata.width, 5);
    await servesBytes(cached, bytes);

    holdPromotion = false;
    release();
    await waitForIdle(harness, suite.db.dataSource);
    const stored = await serializer.serialize(
      await photos.findOneByOrFail({ id: photo.id }),
      'image',
    );
    assert.equal(stored?.state, 'stored');
    assert.match(stored!.url, /^\/attachments\/files\/store\/photo\/\d+\/image\//);
    await servesBytes(stored, bytes);
  });

  it('says failed when promotion gave up, and still serves the cached file', async () => {
    failPromotion = true;
    const bytes = png(6, 6, 2);
    const photo = photos.create({ title: 'unlucky' });
    await harness.attachments.attach(photo, 'image', bytes, { filename: 'u.png' });
    await photos.save(photo);
    const failed = await waitFor(async () => {
      const answer = await serializer.serialize(photo, 'image');
      return answer?.state === 'failed' && answer;
    }, 'the promotion to fail for good');
    await servesBytes(failed, bytes);
    assert.equal(await serializer.serialize(photos.create({ title: 'none' }), 'image'), null);
  });
  it('refuses to be sent as JSON without await, instead of answering {}', async () => {
    const photo = await photos.save(photos.create({ title: 'no await' }));
    await harness.attachments.attach(photo, 'image', png(3, 3, 2), { filename: 'n.png' });
    await photos.save(photo);
    const pending = serializer.serialize(photo, 'image');
    assert.throws(
      () => JSON.stringify({ image: pending }),
      (error: unknown) =>
        error instanceof TypeError && /not awaited: write `await serializer/.test(error.message),
    );
    const list = serializer.serializeList(photo, 'image');
    assert.throws(() => JSON.stringify(list), TypeError);
    await list;
    // Awaited, it is the answer itself, and what `then()` gives is a plain Promise.
    const answer = await pending;
    assert.equal(JSON.parse(JSON.stringify({ image: answer })).image.metadata.width, 3);
    assert.equal(pending.then((value) => value).constructor, Promise);
  });
});
