import '../support/harness.js';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { AttachmentWork, type DeletePayload } from '../../src/index.js';
import { WorkOutbox } from '../../src/jobs/work-outbox.service.js';
import { WorkRelay } from '../../src/jobs/work-relay.js';
import { Photo } from '../support/entities.js';
import type { Harness } from '../support/harness.js';
import { useHarness } from '../support/suite.js';

const HOUR = 3_600_000;
const nothing: DeletePayload = { kind: 'delete', reason: 'removed', files: [] };

/**
 * The relay reaches every row that needs sending: rows whose jobs wait in a long queue (or are
 * stuck) must not hide a newer row whose job Redis lost.
 */
describe('the relay over a long queue', () => {
  // No worker: queued jobs stay queued, as behind a long backlog.
  const suite = useHarness('postgres', [Photo], { worker: false, relay: { after: 1000 } });
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
});
