import '../support/harness.js';
import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import { Entity, PrimaryGeneratedColumn, type Repository } from 'typeorm';
import { Attachment, type UploadedFile } from '../../src/index.js';
import { DATABASES } from '../support/databases.js';
import { reversed, upperCase } from '../support/derivative-entities.js';
import {
  referencedFiles,
  storedFiles,
  waitFor,
  waitForIdle,
  type Harness,
} from '../support/harness.js';
import { StepGate } from '../support/step-gate.js';
import { useHarness } from '../support/suite.js';

/** Two derivatives whose files share a prefix: `thumb.txt` and `thumb.large.txt`. */
@Entity()
class Leaflet {
  @PrimaryGeneratedColumn()
  id!: number;

  @Attachment({ derivatives: { thumb: upperCase, 'thumb.large': reversed } })
  text!: UploadedFile | null;
}

for (const kind of DATABASES) {
  describe(`the cleanup of a derivative that lost its race, on ${kind}`, () => {
    const derives = new StepGate();
    const deletions = new StepGate();
    const suite = useHarness(kind, [Leaflet], {
      jobHooks: {
        onStep: async (step, data) => {
          await derives.pass(step, data);
          await deletions.pass(step, data);
        },
      },
      worker: { concurrency: 5 },
    });
    let harness: Harness;
    let leaflets: Repository<Leaflet>;
    before(() => {
      harness = suite.harness;
      leaflets = suite.db.dataSource.getRepository(Leaflet);
    });

    afterEach(async () => {
      derives.open();
      deletions.open();
      await waitForIdle(harness, suite.db.dataSource);
      assert.deepEqual(
        await storedFiles(harness.storages),
        await referencedFiles(suite.db.dataSource, [{ entity: Leaflet, properties: ['text'] }]),
        'every stored file is referenced, and no more',
      );
    });

    async function attachText(leaflet: Leaflet, text: string): Promise<void> {
      await harness.attachments.attach(leaflet, 'text', Buffer.from(text), { filename: 'l.txt' });
      await leaflets.save(leaflet);
    }

    const storedWith = (id: number, name: string) =>
      waitFor(async () => {
        const { text } = await leaflets.findOneByOrFail({ id });
        return text?.storage === 'store' && text.derivatives?.[name] && text;
      }, `the stored original with ${name}`);

    it("removes only its own output, never a sibling's whose name starts with its own", async () => {
      derives.close('derive:before-write', ['thumb']);
      const leaflet = leaflets.create();
      await attachText(leaflet, 'first');
      const first = await storedWith(leaflet.id, 'thumb.large');
      const sibling = first.derivatives!['thumb.large']!;
      await derives.reached(1);

      // The original's deletion takes its whole folder: held, so what the lost race removes
      // on its own shows.
      deletions.close('delete:before');
      await attachText(await leaflets.findOneByOrFail({ id: leaflet.id }), 'second');
      const second = await storedWith(leaflet.id, 'thumb.large');
      assert.notEqual(second.id, first.id);
      await derives.reached(2);
      derives.open();
      await waitFor(async () => {
        const work = await harness.work.forRecord(leaflet);
        return work.every((row) => row.kind !== 'derive');
      }, 'both thumb jobs to end');

      const store = harness.storages[sibling.storage]!;
      assert.ok(await store.stat(sibling.id), `${sibling.id} is still there`);
      const { text } = await leaflets.findOneByOrFail({ id: leaflet.id });
      assert.ok(text?.derivatives?.thumb, 'the new original got its thumb');
    });
  });
}
