import '../support/harness.js';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { afterEach, before, describe, it } from 'node:test';
import { Entity, PrimaryGeneratedColumn, type Repository } from 'typeorm';
import {
  AttachmentWork,
  Attachments,
  type JobStep,
  type Storage,
  type UploadedFile,
} from '../../src/index.js';
import { DATABASES } from '../support/databases.js';
import { Note } from '../support/derivative-entities.js';
import { Photo } from '../support/entities.js';
import { png } from '../support/fixtures.js';
import { FirstRunGate, runHeldAgain } from '../support/first-run-gate.js';
import {
  referencedFiles,
  storedFiles,
  waitFor,
  waitForIdle,
  type Harness,
} from '../support/harness.js';
import { useHarness } from '../support/suite.js';

@Entity()
class Gallery {
  @PrimaryGeneratedColumn()
  id!: number;

  @Attachments({ allowedTypes: ['image/*'] })
  images!: UploadedFile[] | null;
}

async function sha256Of(storage: Storage, id: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of await storage.open(id)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/**
 * The same job data run twice, the first run held at one step while the second runs to the end,
 * as when BullMQ redelivers a stalled job whose first run is still alive. The end state must be
 * the end state of one run.
 */
for (const kind of DATABASES) {
  describe(`a job run twice, overlapping, on ${kind}`, () => {
    const gate = new FirstRunGate();
    const suite = useHarness(kind, [Photo, Note, Gallery], {
      jobHooks: { onStep: gate.pass },
      worker: { concurrency: 4 },
    });
    let harness: Harness;
    let again = 0;
    before(() => {
      harness = suite.harness;
    });

    afterEach(async () => {
      gate.open();
      await waitForIdle(harness, suite.db.dataSource);
      assert.deepEqual(
        await storedFiles(harness.storages),
        await referencedFiles(suite.db.dataSource, [
          { entity: Photo, properties: ['image'] },
          { entity: Note, properties: ['text', 'shout'] },
          { entity: Gallery, properties: ['images'] },
        ]),
        'the storages hold exactly the files the records name: nothing lost, nothing orphaned',
      );
      assert.equal(
        await suite.db.dataSource.getRepository(AttachmentWork).count(),
        0,
        'no work left, pending or failed',
      );
    });

    /** Runs the held job's data again under another job id, to its end, then frees the first. */
    async function runAgainThenRelease(name: string): Promise<void> {
      again++; // the next test's files differ from this one's
      await runHeldAgain(gate, harness.queue, name);
      // Everything the second run caused (the cached copy's deletion, derivatives) ends first,
      // so the first run resumes into the state one finished run leaves.
      await waitFor(async () => {
        const counts = await harness.queue.getJobCounts('waiting', 'active', 'delayed');
        return counts.waiting === 0 && counts.delayed === 0 && counts.active === 1;
      }, 'only the held run to remain');
      gate.open();
    }

    for (const step of ['promote:before-copy', 'promote:before-write', 'promote:after-write']) {
      it(`promotion held at ${step}: the record keeps the stored file, with its bytes`, async () => {
        const photos = suite.db.dataSource.getRepository(Photo);
        const bytes = png(9, 4, again);
        const photo = photos.create({ title: step });
        await harness.attachments.attach(photo, 'image', bytes, { filename: 'p.png' });
        gate.hold(step as JobStep, (data) => data.kind === 'promote');
        await photos.save(photo);
        await runAgainThenRelease('promote');
        await waitForIdle(harness, suite.db.dataSource);

        const saved = await photos.findOneByOrFail({ id: photo.id });
        assert.equal(saved.image?.storage, 'store');
        assert.equal(await sha256Of(harness.storages.store!, saved.image!.id), sha256(bytes));
      });

      it(`list element promotion held at ${step}: every element stored once`, async () => {
        const galleries: Repository<Gallery> = suite.db.dataSource.getRepository(Gallery);
        const images = [png(5, 5, again), png(6, 5, again)];
        const gallery = galleries.create({ images: [] });
        await harness.attachments.attachMany(gallery, 'images', images);
        const first = gallery.images![0]!.id;
        gate.hold(step as JobStep, (data) => (data.file as UploadedFile | undefined)?.id === first);
        await galleries.save(gallery);
        await runAgainThenRelease('promote');
        await waitForIdle(harness, suite.db.dataSource);

        const saved = await galleries.findOneByOrFail({ id: gallery.id });
        assert.deepEqual(
          saved.images?.map((file) => file.storage),
          ['store', 'store'],
        );
        for (const [n, file] of saved.images!.entries()) {
          assert.equal(await sha256Of(harness.storages.store!, file.id), sha256(images[n]!));
        }
      });
    }

    for (const step of ['derive:before-make', 'derive:before-write']) {
      it(`derivative held at ${step}: made and merged once`, async () => {
        const notes = suite.db.dataSource.getRepository(Note);
        const note = notes.create({ title: step });
        await harness.attachments.attach(note, 'text', Buffer.from('twice over'), {
          filename: 'n.txt',
        });
        gate.hold(step as JobStep, (data) => data.name === 'upper');
        await notes.save(note);
        await runAgainThenRelease('derive');
        await waitForIdle(harness, suite.db.dataSource);

        const { text } = await notes.findOneByOrFail({ id: note.id });
        const upper = text?.derivatives?.upper;
        assert.ok(upper, 'the derivative is in the column');
        assert.equal(
          await sha256Of(harness.storages.store!, upper.id),
          sha256(Buffer.from('TWICE OVER')),
        );
      });
    }

    it('deletion held at delete:before: the replaced file is gone, the new one kept', async () => {
      const photos = suite.db.dataSource.getRepository(Photo);
      const photo = photos.create({ title: 'delete twice' });
      await harness.attachments.attach(photo, 'image', png(3, 3, again), { filename: 'a.png' });
      await photos.save(photo);
      await waitForIdle(harness, suite.db.dataSource);
      const loaded = await photos.findOneByOrFail({ id: photo.id });
      const replacement = png(4, 3, again);
      await harness.attachments.attach(loaded, 'image', replacement, { filename: 'b.png' });
      gate.hold('delete:before', (data) => data.reason === 'replaced');
      await photos.save(loaded);
      await runAgainThenRelease('delete');
      await waitForIdle(harness, suite.db.dataSource);

      const saved = await photos.findOneByOrFail({ id: photo.id });
      assert.equal(await sha256Of(harness.storages.store!, saved.image!.id), sha256(replacement));
    });
  });
}
