import '../support/harness.js';
import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import type { Repository } from 'typeorm';
import { AttachmentSerializer, type UploadedFile } from '../../src/index.js';
import { DATABASES } from '../support/databases.js';
import { Note, processorSwitches } from '../support/derivative-entities.js';
import {
  referencedFiles,
  storedFiles,
  waitFor,
  waitForIdle,
  type Harness,
} from '../support/harness.js';
import { StepGate } from '../support/step-gate.js';
import { useHarness } from '../support/suite.js';

for (const kind of DATABASES) {
  describe(`derivatives on ${kind}`, () => {
    const gate = new StepGate();
    /** The derivative whose write fails, as when the database refuses it at every attempt. */
    let failWrites: string | undefined;
    const suite = useHarness(kind, [Note], {
      jobOptions: { attempts: 2, backoff: { type: 'fixed', delay: 10 }, removeOnComplete: false },
      jobHooks: {
        onStep: async (step, data) => {
          if (
            data.kind === 'derive' &&
            step === 'derive:before-write' &&
            data.name === failWrites
          ) {
            throw new Error('write refused (injected)');
          }
          await gate.pass(step, data);
        },
      },
      worker: { concurrency: 5 },
    });
    let harness: Harness;
    let notes: Repository<Note>;
    before(() => {
      harness = suite.harness;
      notes = suite.db.dataSource.getRepository(Note);
    });

    afterEach(async () => {
      gate.open();
      failWrites = undefined;
      processorSwitches.failing = false;
      processorSwitches.upperExtension = 'txt';
      await waitForIdle(harness, suite.db.dataSource);
      assert.deepEqual(
        await storedFiles(harness.storages),
        await referencedFiles(suite.db.dataSource, [
          { entity: Note, properties: ['text', 'shout'] },
        ]),
        'every stored file, derivatives included, is referenced, and no more',
      );
    });

    async function read(file: UploadedFile | undefined): Promise<string> {
      assert.ok(file, 'the derivative exists');
      const chunks: Buffer[] = [];
      for await (const chunk of await harness.storages[file.storage]!.open(file.id))
        chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    }

    async function saveNote(text: string): Promise<Note> {
      const note = notes.create({ title: text });
      await harness.attachments.attach(note, 'text', Buffer.from(text), { filename: 'note.txt' });
      await notes.save(note);
      return note;
    }

    it('makes each derivative in its own job, one during promotion, beside the original', async () => {
      const note = await saveNote('hello derivative world');
      await waitForIdle(harness, suite.db.dataSource);
      const { text } = await notes.findOneByOrFail({ id: note.id });
      assert.equal(text?.storage, 'store');
      const stem = text!.id.replace(/\.txt$/, '');
      assert.deepEqual(Object.keys(text!.derivatives ?? {}).sort(), [
        'count',
        'flaky',
        'summary',
        'upper',
      ]);
      assert.equal(await read(text!.derivatives!.upper), 'HELLO DERIVATIVE WORLD');
      assert.equal(await read(text!.derivatives!.summary), 'dlrow evitavired olleh');
      assert.deepEqual(JSON.parse(await read(text!.derivatives!.count)), { words: 3 });
      assert.equal(text!.derivatives!.count!.id, `${stem}/count.json`);
      assert.equal(text!.derivatives!.count!.metadata.size, '{"words":3}'.length);
    });

    it('merges two derivatives finishing at the same moment, both of them', async () => {
      gate.close('derive:before-write', ['upper', 'count']);
      const note = await saveNote('two at once');
      await gate.reached(2);
      gate.open();
      await waitForIdle(harness, suite.db.dataSource);
      const { text } = await notes.findOneByOrFail({ id: note.id });
      assert.equal(await read(text!.derivatives!.upper), 'TWO AT ONCE');
      assert.deepEqual(JSON.parse(await read(text!.derivatives!.count)), { words: 3 });
    });

    it('a derivative that finishes after the original was replaced writes nothing and deletes its output', async () => {
      gate.close('derive:before-write', ['upper']);
      const note = await saveNote('first version');
      await gate.reached(1);
      const loaded = await notes.findOneByOrFail({ id: note.id });
      await harness.attachments.attach(loaded, 'text', Buffer.from('second version'), {
        filename: 'b.txt',
      });
      await notes.save(loaded);
      gate.open();
      await waitForIdle(harness, suite.db.dataSource);
      const { text } = await notes.findOneByOrFail({ id: note.id });
      assert.equal(await read(text!.derivatives!.upper), 'SECOND VERSION');
    });

    it('a failing derivative retries on its own, then shows as failed work; the rest is made', async () => {
      processorSwitches.failing = true;
      const note = await saveNote('unlucky words here');
      const failed = await waitFor(async () => {
        const rows = await harness.work.forRecord(note);
        return rows.find((row) => row.status === 'failed');
      }, 'the flaky derivative to fail for good');
      assert.equal(failed.kind, 'derive');
      assert.equal(failed.attempts, 2);
      assert.match(failed.lastError ?? '', /flaky processor failed/);
      await waitFor(async () => {
        const { text } = await notes.findOneByOrFail({ id: note.id });
        return Object.keys(text?.derivatives ?? {}).length === 3 && text;
      }, 'the other derivatives');

      processorSwitches.failing = false;
      assert.equal(await harness.work.retry(failed.id), true);
      await waitForIdle(harness, suite.db.dataSource);
      const { text } = await notes.findOneByOrFail({ id: note.id });
      assert.equal(
        await read(text!.derivatives!.flaky),
        [...'unlucky words here'].reverse().join(''),
      );
    });

    it('a derivative stored but never written into the column goes with its original', async () => {
      failWrites = 'upper';
      const note = await saveNote('written never');
      await waitFor(async () => {
        const work = await harness.work.forRecord(note);
        return work.some((row) => row.status === 'failed' && row.kind === 'derive');
      }, 'the derivative to fail for good');
      const { text } = await notes.findOneByOrFail({ id: note.id });
      assert.equal(text?.derivatives?.upper, undefined, 'never merged');
      failWrites = undefined;
      // The output sits under the original's folder; replacing the original takes the folder.
      await harness.attachments.attach(note, 'text', Buffer.from('next'), { filename: 'n.txt' });
      await notes.save(note);
    });

    it('removing or replacing an original deletes its derivatives too', async () => {
      const kept = await saveNote('to be replaced');
      const removed = await saveNote('to be removed');
      await waitForIdle(harness, suite.db.dataSource);
      const loaded = await notes.findOneByOrFail({ id: kept.id });
      await harness.attachments.attach(loaded, 'text', null);
      await notes.save(loaded);
      await notes.remove(await notes.findOneByOrFail({ id: removed.id }));
      // afterEach checks that no derivative file outlived its original.
    });

    it('an object loaded before the derivatives landed does not erase them on save', async () => {
      const note = await saveNote('stale object');
      await waitFor(
        async () => (await notes.findOneByOrFail({ id: note.id })).text?.storage === 'store',
        'promotion',
      );
      const stale = await notes.findOneByOrFail({ id: note.id });
      await waitForIdle(harness, suite.db.dataSource);
      stale.title = 'renamed';
      await notes.save(stale);
      const { text, title } = await notes.findOneByOrFail({ id: note.id });
      assert.equal(title, 'renamed');
      assert.equal(Object.keys(text!.derivatives ?? {}).length, 4);
    });

    it('preprocesses an original before it is stored', async () => {
      const note = notes.create();
      await harness.attachments.attach(note, 'shout', Buffer.from('quiet please'), {
        filename: 'q.txt',
      });
      await notes.save(note);
      await waitForIdle(harness, suite.db.dataSource);
      const { shout } = await notes.findOneByOrFail({ id: note.id });
      assert.equal(await read(shout!), 'QUIET PLEASE');
      assert.equal(shout!.metadata.filename, 'q.txt');
    });

    it('serves the original while a derivative is pending, and says which are ready', async () => {
      const serializer = harness.app.get(AttachmentSerializer, { strict: false });
      gate.close('derive:before-write', ['upper']);
      const note = await saveNote('pending derivative');
      await gate.reached(1);
      const loaded = await notes.findOneByOrFail({ id: note.id });
      const pending = await serializer.serialize(loaded, 'text');
      assert.equal(pending?.derivatives.upper?.ready, false);
      assert.equal(pending?.derivatives.upper?.url, pending?.url, 'falls back to the original');
      assert.equal(pending?.derivatives.summary?.ready, true, 'made during promotion');
      gate.open();
      await waitForIdle(harness, suite.db.dataSource);
      const done = await serializer.serialize(await notes.findOneByOrFail({ id: note.id }), 'text');
      assert.equal(done?.derivatives.upper?.ready, true);
      assert.match(done!.derivatives.upper!.url, /\/upper\.txt\?/);
    });

    it('regenerates derivatives of existing records in batches, replacing the old versions', async () => {
      const saved = [await saveNote('one'), await saveNote('two'), await saveNote('three')];
      await waitForIdle(harness, suite.db.dataSource);
      processorSwitches.upperExtension = 'md';
      const queued = await harness.work.regenerateDerivatives(Note, 'text', {
        names: ['upper'],
        batchSize: 2,
      });
      const withText = (await notes.find()).filter((note) => note.text?.storage === 'store');
      assert.equal(queued, withText.length, 'one job per stored original');
      await waitForIdle(harness, suite.db.dataSource);
      for (const note of saved) {
        const { text } = await notes.findOneByOrFail({ id: note.id });
        assert.match(text!.derivatives!.upper!.id, /\/upper\.md$/);
        assert.equal(await read(text!.derivatives!.upper), note.title.toUpperCase());
      }
      // afterEach: the replaced upper.txt files are gone.
    });
  });
}
