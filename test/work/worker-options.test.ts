import '../support/harness.js';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { Photo } from '../support/entities.js';
import { png } from '../support/fixtures.js';
import { waitForIdle } from '../support/harness.js';
import { useHarness } from '../support/suite.js';

const LOCK_MS = 500;

/** The module's worker options are the ones BullMQ's worker really runs with. */
describe('worker options', () => {
  let runs = 0;
  const suite = useHarness('postgres', [Photo], {
    worker: { concurrency: 2, lockDuration: LOCK_MS, stalledInterval: LOCK_MS },
    jobHooks: {
      onStep: async (step) => {
        if (step !== 'promote:before-copy') return;
        runs++;
        // A slow copy: four lock durations, during which the worker must keep renewing its lock.
        await delay(4 * LOCK_MS);
      },
    },
  });

  it('a job longer than lockDuration keeps its lock and runs once', async () => {
    const { harness, db } = suite;
    const photos = db.dataSource.getRepository(Photo);
    const photo = photos.create({ title: 'slow' });
    await harness.attachments.attach(photo, 'image', png(5, 5), { filename: 's.png' });
    await photos.save(photo);
    await waitForIdle(harness, db.dataSource);
    assert.equal(runs, 1, 'never taken for stalled, so never run twice');
    assert.equal((await photos.findOneByOrFail({ id: photo.id })).image?.storage, 'store');
  });
});
