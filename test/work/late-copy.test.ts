import '../support/harness.js';
import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import { AttachmentWork, type JobStep, type JobStepData } from '../../src/index.js';
import { DATABASES } from '../support/databases.js';
import { Note } from '../support/derivative-entities.js';
import { Photo } from '../support/entities.js';
import { png } from '../support/fixtures.js';
import { FirstRunGate, runHeldAgain } from '../support/first-run-gate.js';
import {
  listFiles,
  referencedFiles,
  storedFiles,
  waitFor,
  waitForIdle,
  type Harness,
} from '../support/harness.js';
import { useHarness } from '../support/suite.js';

/**
 * A run paused past its lock while another run of the same work finishes it, the record moves
 * on and the finished file is deleted; then the paused run goes on, writes its copy again, and
 * dies before it can look at the record. No later run of that work comes to clean up, so the
 * copy must not outlive the run's first look after writing it.
 */
for (const kind of DATABASES) {
  describe(`a late run of finished work, on ${kind}`, () => {
    const gate = new FirstRunGate();
    /** The step at which the held run dies, once released (it throws, as a killed run stops). */
    let diesAt: { step: JobStep; workId: string } | undefined;
    const onStep = async (step: JobStep, data: JobStepData) => {
      await gate.pass(step, { ...data });
      if (diesAt && step === diesAt.step && data.workId === diesAt.workId) {
        throw new Error('the late run dies here');
      }
    };
    const suite = useHarness(kind, [Photo, Note], {
      jobHooks: { onStep },
      worker: { concurrency: 4 },
      // The cached copy outlives the first run's write, as by default: a late copy can succeed.
      cacheDeleteDelay: 600_000,
    });
    let harness: Harness;
    before(() => {
      harness = suite.harness;
    });

    afterEach(async () => {
      gate.open();
      diesAt = undefined;
      // The cached copies' deletions wait for cacheDeleteDelay: run them now.
      await waitFor(async () => (await harness.queue.getJobCounts('active')).active === 0, 'idle');
      for (const job of await harness.queue.getJobs(['delayed'])) await job.promote();
      await waitForIdle(harness, suite.db.dataSource);
      assert.deepEqual(
        await storedFiles(harness.storages),
        await referencedFiles(suite.db.dataSource, [
          { entity: Photo, properties: ['image'] },
          { entity: Note, properties: ['text', 'shout'] },
        ]),
        'the storages hold exactly the files the records name: nothing orphaned',
      );
      assert.equal(await suite.db.dataSource.getRepository(AttachmentWork).count(), 0);
    });

    it('promotion paused before its copy, record replaced meanwhile: the late copy is removed', async () => {
      const photos = suite.db.dataSource.getRepository(Photo);
      const photo = photos.create({ title: 'late copy' });
      await harness.attachments.attach(photo, 'image', png(7, 4, 1), { filename: 'a.png' });
      gate.hold('promote:before-copy', (data) => data.kind === 'promote');
      await photos.save(photo);
      const held = await runHeldAgain(gate, harness.queue, 'promote');
      const promoted = await photos.findOneByOrFail({ id: photo.id });
      const first = promoted.image!;
      assert.equal(first.storage, 'store');

      await harness.attachments.attach(promoted, 'image', png(8, 4, 2), { filename: 'b.png' });
      await photos.save(promoted);
      await waitFor(
        async () => !(await listFiles(harness.storages.store!)).includes(first.id),
        'the replaced file to be deleted',
      );

      diesAt = { step: 'promote:before-write', workId: String(held.workId) };
      gate.open();
      await waitFor(
        async () =>
          (await harness.queue.getJobState(`work-${String(held.workId)}`)) === 'completed',
        'the late run to end',
      );
      assert.ok(
        !(await listFiles(harness.storages.store!)).includes(first.id),
        'the late copy of the replaced file is not left behind',
      );
    });

    it('derivative paused before it is made, original replaced meanwhile: the late output is removed', async () => {
      const notes = suite.db.dataSource.getRepository(Note);
      const note = notes.create({ title: 'late output' });
      await harness.attachments.attach(note, 'text', Buffer.from('first'), { filename: 'n.txt' });
      gate.hold('derive:before-make', (data) => data.name === 'upper');
      await notes.save(note);
      const held = await runHeldAgain(gate, harness.queue, 'derive');
      const derived = await notes.findOneByOrFail({ id: note.id });
      const upper = derived.text!.derivatives!.upper!;

      await harness.attachments.attach(derived, 'text', Buffer.from('second'), {
        filename: 'm.txt',
      });
      await notes.save(derived);
      await waitFor(
        async () => !(await listFiles(harness.storages.store!)).includes(upper.id),
        'the replaced original and its derivatives to be deleted',
      );

      diesAt = { step: 'derive:before-write', workId: String(held.workId) };
      gate.open();
      await waitFor(async () => {
        const state = await harness.queue.getJobState(`work-${String(held.workId)}`);
        return state === 'completed' || state === 'failed';
      }, 'the late run to end');
      assert.ok(
        !(await listFiles(harness.storages.store!)).includes(upper.id),
        'the late output of the replaced original is not left behind',
      );
    });
  });
}
