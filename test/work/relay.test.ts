import '../support/harness.js';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { UnrecoverableError, Worker } from 'bullmq';
import { AttachmentWork, ATTACHMENTS_QUEUE } from '../../src/index.js';
import { type DeletePayload } from '../../src/core/index.js';
import { WorkOutbox } from '../../src/outbox/work-outbox.service.js';
import { WorkRelay } from '../../src/work/work-relay.js';
import { Photo } from '../support/entities.js';
import { redisConnection, startHarness, type Harness } from '../support/harness.js';
import { SERVER_DATABASES } from '../support/databases.js';
import { useHarness } from '../support/suite.js';

const HOUR = 3_600_000;
const nothing: DeletePayload = { kind: 'delete', reason: 'removed', files: [] };

/**
 * The relay reaches every row that needs sending: rows whose jobs wait in a long queue (or are
 * stuck) must not hide a newer row whose job Redis lost.
 */
for (const kind of SERVER_DATABASES) {
  describe(`the relay over a long queue, on ${kind}`, () => {
    // No worker: queued jobs stay queued, as behind a long backlog.
    const suite = useHarness(kind, [Photo], { worker: false, relay: { after: 1000 } });
    let harness: Harness;
    let outbox: WorkOutbox;
    before(() => {
      harness = suite.harness;
      outbox = harness.app.get(WorkOutbox, { strict: false });
    });

    /** Rows recorded `age` ago, sent to the queue or not. */
    async function rows(count: number, age: number, queued: boolean): Promise<AttachmentWork[]> {
      const made = Array.from({ length: count }, () => {
        const row = outbox.create(nothing, { id: randomUUID() });
        row.createdAt = row.availableAt = Date.now() - age;
        row.relayAt = row.createdAt + 1000;
        return row;
      });
      await outbox.record(suite.db.dataSource.manager, made);
      if (queued) assert.equal(await outbox.send(made), true);
      return made;
    }

    const inQueue = async (row: AttachmentWork) =>
      (await harness.queue.getJobState(`work-${row.id}`)) !== 'unknown';

    it('sends a lost row that is newer than 500 rows still queued', async () => {
      await rows(600, 2 * HOUR, true);
      const [lost] = await rows(1, HOUR, false);
      await harness.work.relay();
      assert.ok(await inQueue(lost!), 'the lost row was sent');
    });

    it('checks each due row once per pass, and later ones later', async () => {
      const relay = harness.app.get(WorkRelay, { strict: false });
      await suite.db.dataSource.getRepository(AttachmentWork).clear();
      await harness.queue.obliterate({ force: true });
      await rows(700, 2 * HOUR, true);
      const [lost] = await rows(1, HOUR, false);
      const first = await relay.pass();
      assert.deepEqual(first, { sent: 1, failed: 0, checked: 701 });
      assert.ok(await inQueue(lost!));
      assert.deepEqual(await relay.pass(), { sent: 0, failed: 0, checked: 0 }, 'none due again');
      const next = await suite.db.dataSource.getRepository(AttachmentWork).findOneByOrFail({
        id: lost!.id,
      });
      // An hour old: checked again after half its age at most, and at least relay.after later.
      assert.ok(next.relayAt > Date.now() + 1000 && next.relayAt <= Date.now() + 10 * 60_000);
    });

    it('relays of two workers re-queue a job BullMQ failed for stalling once, counting one stall', async () => {
      const repository = suite.db.dataSource.getRepository(AttachmentWork);
      await repository.clear();
      await harness.queue.obliterate({ force: true });
      const stalled = await rows(20, HOUR, true);
      // Each job left as BullMQ leaves one whose workers died under it too often.
      const taker = new Worker(ATTACHMENTS_QUEUE, null, {
        connection: redisConnection(),
        prefix: harness.queue.opts.prefix,
        autorun: false,
      });
      for (let n = 0; n < stalled.length; n++) {
        const job = await taker.getNextJob('taker');
        await job!.moveToFailed(
          new UnrecoverableError('job stalled more than allowable limit'),
          'taker',
        );
      }
      await taker.close();
      const other = await startHarness({
        dataSource: suite.db.dataSource,
        directory: harness.directory,
        queuePrefix: harness.queue.opts.prefix,
        worker: false,
      });
      try {
        const relays = [harness, other].map((app) => app.app.get(WorkRelay, { strict: false }));
        await Promise.all(relays.map((relay) => relay.pass({ all: true })));
        for (const row of stalled) {
          assert.equal(await harness.queue.getJobState(`work-${row.id}`), 'waiting');
          const now = await repository.findOneByOrFail({ id: row.id });
          assert.deepEqual([now.status, now.attempts], ['pending', 1], `row ${row.id}`);
        }
      } finally {
        await other.app.close();
      }
    });
  });
}

describe('the relay with relay.after set to 0', () => {
  const suite = useHarness('sqlite', [Photo], { worker: false, relay: { after: 0 } });

  it('checks each due row once and schedules its next check later', async () => {
    const outbox = suite.harness.app.get(WorkOutbox, { strict: false });
    const made = Array.from({ length: 3 }, () => outbox.create(nothing, { id: randomUUID() }));
    await outbox.record(suite.db.dataSource.manager, made);
    const relay = suite.harness.app.get(WorkRelay, { strict: false });
    await suite.harness.queue.waitUntilReady(); // a relay waits for Redis before its first pass
    assert.deepEqual(await relay.pass(), { sent: 3, failed: 0, checked: 3 });
    const rows = await suite.db.dataSource.getRepository(AttachmentWork).find();
    for (const row of rows) assert.ok(row.relayAt > row.createdAt, `row ${row.id}`);
  });
});
