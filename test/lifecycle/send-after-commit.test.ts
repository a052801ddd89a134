import '../support/harness.js';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, afterEach, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import type { Subscription } from 'rxjs';
import {
  ATTACHMENTS_QUEUE,
  AttachmentEvents,
  attachmentEntities,
  type AttachmentEvent,
} from '../../src/index.js';
import { TransactionWork } from '../../src/lifecycle/transaction-work.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { Photo } from '../support/entities.js';
import { png } from '../support/fixtures.js';
import { redisConnection, startHarness, waitForIdle, type Harness } from '../support/harness.js';
import { useHarness } from '../support/suite.js';

type AddBulk = Queue['addBulk'];

/**
 * Stands between the queue and Redis: an add waits until `release()`, then fails with `fail` if
 * it was set when the add began. `entered` resolves once the library has begun an add, `ended`
 * once that add has answered.
 */
class AddGate {
  entered!: Promise<void>;
  ended!: Promise<void>;
  fail?: Error;
  private enter!: () => void;
  private end!: () => void;
  private open!: () => void;
  private opened!: Promise<void>;

  constructor(queue: Queue) {
    const original: AddBulk = queue.addBulk.bind(queue);
    this.reset();
    queue.addBulk = async (jobs) => {
      const { fail, opened, end } = this;
      this.enter();
      try {
        await opened;
        if (fail) throw fail;
        return await original(jobs);
      } finally {
        end();
      }
    };
  }

  release(): void {
    this.open();
  }

  /** The next add waits again, and succeeds unless `fail` is set anew. */
  reset(): void {
    this.entered = new Promise((resolve) => (this.enter = resolve));
    this.ended = new Promise((resolve) => (this.end = resolve));
    this.opened = new Promise((resolve) => (this.open = resolve));
    this.fail = undefined;
  }
}

describe('the jobs of a save are sent after it returns', () => {
  const suite = useHarness('postgres', [Photo]);
  let harness: Harness;
  let gate: AddGate;
  let seen: AttachmentEvent[];
  let subscription: Subscription;
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  before(() => {
    harness = suite.harness;
    gate = new AddGate(harness.queue);
    process.on('unhandledRejection', onRejection);
  });
  afterEach(async () => {
    subscription?.unsubscribe();
    gate.release();
    await waitForIdle(harness, suite.db.dataSource);
    gate.reset();
  });
  after(() => process.off('unhandledRejection', onRejection));

  function listen() {
    seen = [];
    subscription = harness.app
      .get(AttachmentEvents, { strict: false })
      .events$.subscribe((event) => seen.push(event));
  }

  async function saveWithImage(title: string) {
    const photos = suite.db.dataSource.getRepository(Photo);
    const photo = photos.create({ title });
    const { token } = await harness.attachments.cache(png(5, 5), { filename: `${title}.png` });
    await harness.attachments.attach(photo, 'image', token);
    await photos.save(photo);
    return photo;
  }

  it('save() returns while Redis has not taken the job; attached is emitted, the job follows', async () => {
    listen();
    const photo = await saveWithImage('prompt');
    assert.deepEqual(
      seen.map((event) => event.type),
      ['cached', 'attached'],
    );
    const [row] = await harness.work.forRecord(photo);
    assert.equal(row?.status, 'pending', 'the committed row waits for its job');
    await gate.entered;
    const counts = await harness.queue.getJobCounts('waiting', 'active', 'delayed');
    assert.ok(
      Object.values(counts).every((count) => count === 0),
      'no job yet',
    );

    gate.release();
    await waitForIdle(harness, suite.db.dataSource);
    const saved = await suite.db.dataSource.getRepository(Photo).findOneByOrFail({ id: photo.id });
    assert.equal(saved.image?.storage, 'store');
  });

  it('a failed add is no unhandled rejection, and leaves the row to the relay', async () => {
    gate.fail = new Error('Redis refused the add (injected)');
    const photo = await saveWithImage('refused');
    await gate.entered;
    gate.release();
    await gate.ended;
    const [row] = await harness.work.forRecord(photo);
    assert.equal(row?.status, 'pending', 'the row waits for the relay');
    // The relay finds the row's job missing from the queue and sends it; Redis takes it now.
    gate.reset();
    gate.release();
    assert.equal(await harness.work.relay(), 1);
    await waitForIdle(harness, suite.db.dataSource);
    const saved = await suite.db.dataSource.getRepository(Photo).findOneByOrFail({ id: photo.id });
    assert.equal(saved.image?.storage, 'store');
    assert.deepEqual(rejections, []);
  });
});

describe('closing the app while a save’s jobs are on their way to Redis', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('postgres', [Photo, ...attachmentEntities]);
  });
  after(() => db.close());

  it('lets the add end before the queue closes: the job is in Redis, none is cut off', async () => {
    const harness = await startHarness({ dataSource: db.dataSource, worker: false });
    const prefix = harness.queue.opts.prefix!;
    const gate = new AddGate(harness.queue);
    const order: string[] = [];
    const closeQueue = harness.queue.close.bind(harness.queue);
    harness.queue.close = () => {
      order.push('queue closed');
      return closeQueue();
    };
    const work = harness.app.get(TransactionWork, { strict: false });
    const waitForSends = work.beforeApplicationShutdown.bind(work);
    let shuttingDown!: () => void;
    const reachedShutdown = new Promise<void>((resolve) => (shuttingDown = resolve));
    work.beforeApplicationShutdown = async () => {
      shuttingDown();
      await waitForSends();
      order.push('sends ended');
    };

    const photos = db.dataSource.getRepository(Photo);
    const photo = photos.create({ title: 'closing' });
    const { token } = await harness.attachments.cache(png(4, 4), { filename: 'c.png' });
    await harness.attachments.attach(photo, 'image', token);
    await photos.save(photo);
    await gate.entered;
    void gate.ended.then(() => order.push('add answered'));

    const closed = harness.app.close().then(() => order.push('app closed'));
    await reachedShutdown;
    gate.release();
    await closed;
    await rm(harness.directory, { recursive: true, force: true });
    assert.deepEqual(order.slice(0, 3), ['add answered', 'sends ended', 'queue closed']);
    assert.equal(order.at(-1), 'app closed');

    const queue = new Queue(ATTACHMENTS_QUEUE, { connection: redisConnection(), prefix });
    try {
      assert.equal((await queue.getJobCounts('waiting')).waiting, 1, 'the job reached Redis');
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});
