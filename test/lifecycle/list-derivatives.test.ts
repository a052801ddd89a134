import '../support/harness.js';
import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import type { Repository } from 'typeorm';
import type { UploadedFile } from '../../src/index.js';
import { derivativeFolder } from '../../src/derivatives/index.js';
import { assertBindersMatchStorages, binderWith, derivingFrom } from '../support/binders.js';
import { DATABASES } from '../support/databases.js';
import { Binder } from '../support/derivative-entities.js';
import { listFiles, waitFor, waitForIdle, type Harness } from '../support/harness.js';
import { StepHolds } from '../support/step-holds.js';
import { storedText } from '../support/streams.js';
import { useHarness } from '../support/suite.js';

type JobData = Readonly<Record<string, unknown>>;

const isDeletion = (data: JobData) => data.kind === 'delete' && data.reason !== 'promoted';

for (const kind of DATABASES) {
  describe(`list elements and their derivatives, removed and saved stale, on ${kind}`, () => {
    const holds = new StepHolds();
    const suite = useHarness(kind, [Binder], {
      jobHooks: { onStep: holds.pass },
      worker: { concurrency: 5 },
    });
    let harness: Harness;
    let binders: Repository<Binder>;
    before(() => {
      harness = suite.harness;
      binders = suite.db.dataSource.getRepository(Binder);
    });

    afterEach(async () => {
      holds.releaseAll();
      await assertBindersMatchStorages(harness, suite.db.dataSource);
    });

    const read = (file: UploadedFile | undefined) => storedText(harness.storages, file);

    /** Files under an element's own name: the original and its derivatives' folder. */
    async function filesOf(element: UploadedFile): Promise<string[]> {
      const stem = derivativeFolder(element).slice(0, -1);
      return (await listFiles(harness.storages.store!)).filter((id) => id.startsWith(stem));
    }

    const newBinder = (texts: string[]) => binderWith(harness, suite.db.dataSource, texts);
    const savedBinder = async (texts: string[]) => binders.save(await newBinder(texts));

    const pagesOf = async (id: number) => (await binders.findOneByOrFail({ id })).pages ?? [];

    it('detaching an element, saving without one, or removing the record deletes their derivatives', async () => {
      const binder = await savedBinder(['one', 'two', 'three']);
      await waitForIdle(harness, suite.db.dataSource);
      const [one, two, three] = await pagesOf(binder.id);
      assert.equal((await filesOf(one!)).length, 3, 'the original and its two derivatives');

      const loaded = await binders.findOneByOrFail({ id: binder.id });
      harness.attachments.detach(loaded, 'pages', [one!.id]);
      await binders.save(loaded);
      await waitForIdle(harness, suite.db.dataSource);
      assert.deepEqual(await filesOf(one!), [], 'detached: its file and derivatives are gone');

      loaded.pages = loaded.pages!.filter((page) => page.id !== two!.id);
      await binders.save(loaded);
      await waitForIdle(harness, suite.db.dataSource);
      assert.deepEqual(await filesOf(two!), [], 'left out of a save: gone too');
      const [left] = await pagesOf(binder.id);
      assert.equal(left?.id, three!.id);
      assert.equal(await read(left?.derivatives?.upper), '[THREE]', 'the others keep theirs');

      await binders.remove(await binders.findOneByOrFail({ id: binder.id }));
      await waitForIdle(harness, suite.db.dataSource);
      assert.deepEqual(await filesOf(three!), [], 'the record removed: everything of it gone');
    });

    for (const removal of ['detached', 'removed with its record'] as const) {
      for (const first of ['the deletion', 'the derivative job'] as const) {
        it(`an element ${removal} while its derivative waits to write, ${first} ending first: no orphan`, async () => {
          const binder = await newBinder(['doomed', 'staying']);
          const doomedSource = binder.pages![0]!.id;
          const derive = holds.hold('derive:before-write', derivingFrom(doomedSource));
          const deletion =
            first === 'the derivative job' ? holds.hold('delete:before', isDeletion) : null;
          await binders.save(binder);
          await derive.reached();
          const loaded = await binders.findOneByOrFail({ id: binder.id });
          const doomed = loaded.pages!.find((page) => page.source === doomedSource)!;
          assert.equal((await filesOf(doomed)).length, 3, 'its output is made, not yet written');

          if (removal === 'detached') {
            harness.attachments.detach(loaded, 'pages', [doomed.id]);
            await binders.save(loaded);
          } else {
            await binders.remove(loaded);
          }
          if (deletion) {
            await deletion.reached();
            derive.release();
            // The job finds the element gone and deletes its own output; the original and the
            // derivative made during its promotion wait for the deletion.
            await waitFor(
              async () => (await filesOf(doomed)).length === 2,
              'the derivative job to delete its output',
            );
            deletion.release();
          } else {
            await waitFor(
              async () => (await filesOf(doomed)).length === 0,
              'the deletion of the element and its folder',
            );
            derive.release();
          }
          await waitForIdle(harness, suite.db.dataSource);
          assert.deepEqual(await filesOf(doomed), [], 'nothing of the element remains');
          if (removal === 'detached') {
            const pages = await pagesOf(binder.id);
            assert.equal(pages.length, 1);
            assert.equal(await read(pages[0]!.derivatives?.upper), '[STAYING]');
          }
        });
      }
    }

    it('an object loaded before the derivatives were merged keeps them when saved, and brings no removed element back', async () => {
      const derive = holds.hold('derive:before-write', (data) => data.kind === 'derive');
      const binder = await savedBinder(['first', 'second', 'removed']);
      await derive.reached(3);
      const stale = await binders.findOneByOrFail({ id: binder.id });
      assert.ok(stale.pages!.every((page) => page.storage === 'store' && !page.derivatives?.upper));

      const other = await binders.findOneByOrFail({ id: binder.id });
      harness.attachments.detach(other, 'pages', [other.pages![2]!.id]);
      await binders.save(other);
      derive.release();
      await waitForIdle(harness, suite.db.dataSource);

      const [first, second, removed] = stale.pages!;
      harness.attachments.reorder(stale, 'pages', [second!.id, first!.id, removed!.id]);
      await binders.save(stale);
      await waitForIdle(harness, suite.db.dataSource);
      const pages = await pagesOf(binder.id);
      assert.deepEqual(
        pages.map((page) => page.id),
        [second!.id, first!.id],
        'reordered, the removed one not back',
      );
      assert.deepEqual(
        await Promise.all(pages.map((page) => read(page.derivatives?.upper))),
        ['[SECOND]', '[FIRST]'],
        'the derivatives merged after the object was loaded are kept',
      );
      assert.deepEqual(await filesOf(removed!), []);
    });
  });
}
