import '../support/harness.js';
import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import type { Repository } from 'typeorm';
import {
  AttachmentEvents,
  AttachmentSerializer,
  AttachmentWork,
  type AttachmentEvent,
  type UploadedFile,
} from '../../src/index.js';
import { assertBindersMatchStorages, binderWith, derivingFrom } from '../support/binders.js';
import { DATABASES } from '../support/databases.js';
import { Binder, processorSwitches } from '../support/derivative-entities.js';
import { FirstRunGate, runHeldAgain } from '../support/first-run-gate.js';
import { waitFor, waitForIdle, type Harness } from '../support/harness.js';
import { StepHolds } from '../support/step-holds.js';
import { storedText } from '../support/streams.js';
import { useHarness } from '../support/suite.js';

/** What each derivative of a page holds, its text given: framed first, as preprocessing does. */
const expected = (text: string) => ({
  original: `[${text}]`,
  upper: `[${text}]`.toUpperCase(),
  summary: [...`[${text}]`].reverse().join(''),
});

for (const kind of DATABASES) {
  describe(`derivatives of list elements on ${kind}`, () => {
    const holds = new StepHolds();
    /** Cached files whose promotion fails at every attempt. */
    const refused = new Set<string>();
    const firstRun = new FirstRunGate();
    const suite = useHarness(kind, [Binder], {
      jobHooks: {
        onStep: async (step, data) => {
          if (data.kind === 'promote' && refused.has(data.file.id)) {
            throw new Error('store refused (injected)');
          }
          await holds.pass(step, data);
          await firstRun.pass(step, data);
        },
      },
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
      firstRun.open();
      processorSwitches.upperExtension = 'txt';
      await assertBindersMatchStorages(harness, suite.db.dataSource);
    });

    const read = (file: UploadedFile | undefined) => storedText(harness.storages, file);

    /** Each page holds its own preprocessed text and derivatives, in the order of `texts`. */
    async function assertPages(id: number, texts: string[]): Promise<UploadedFile[]> {
      const pages = (await binders.findOneByOrFail({ id })).pages ?? [];
      assert.equal(pages.length, texts.length);
      for (const [n, page] of pages.entries()) {
        const want = expected(texts[n]!);
        assert.equal(page.storage, 'store');
        assert.equal(await read(page), want.original, `page ${n}, preprocessed, in its place`);
        assert.deepEqual(Object.keys(page.derivatives ?? {}).sort(), ['summary', 'upper']);
        assert.equal(await read(page.derivatives!.upper), want.upper, `page ${n}: upper`);
        assert.equal(await read(page.derivatives!.summary), want.summary, `page ${n}: summary`);
        const folder = page.id.replace(/\.txt$/, '/');
        for (const derivative of Object.values(page.derivatives!)) {
          assert.ok(derivative.id.startsWith(folder), 'beside its own original');
        }
      }
      return pages;
    }

    /** The binder's pages as serializeList answers them, and each one's state and readiness. */
    async function serializedPages(id: number) {
      const serializer = harness.app.get(AttachmentSerializer, { strict: false });
      const loaded = await binders.findOneByOrFail({ id });
      const serialized = await serializer.serializeList(loaded, 'pages');
      const states = serialized.map((page) => [page.state, page.derivatives.upper?.ready]);
      return { loaded, serialized, states };
    }

    const newBinder = (texts: string[]) => binderWith(harness, suite.db.dataSource, texts);

    it('gives each element its own derivatives, preprocessed, in order', async () => {
      const events = harness.app.get(AttachmentEvents, { strict: false });
      const seen: AttachmentEvent[] = [];
      const subscription = events.events$.subscribe((event) => seen.push(event));
      try {
        const texts = ['alpha one', 'beta two', 'gamma three'];
        const binder = await newBinder(texts);
        await binders.save(binder);
        await waitForIdle(harness, suite.db.dataSource);
        const pages = await assertPages(binder.id, texts);

        for (const page of pages) {
          const made = seen.filter(
            (event) => event.type === 'derivative' && event.original.id === page.id,
          );
          assert.equal(made.length, 1, 'one derivative event per background derivative');
          const [event] = made;
          assert.ok(event?.type === 'derivative');
          assert.equal(event.name, 'upper');
          assert.equal(event.original.source, page.source, 'names the upload it came from');
          assert.deepEqual(event.file, page.derivatives!.upper);
        }

        const { serialized, states } = await serializedPages(binder.id);
        assert.deepEqual(states, [
          ['stored', true],
          ['stored', true],
          ['stored', true],
        ]);
        const urls = new Set(serialized.map((page) => page.derivatives.upper!.url));
        assert.equal(urls.size, 3, 'each element shows its own derivative');
        for (const page of serialized) assert.match(page.derivatives.upper!.url, /\/upper\.txt\?/);
      } finally {
        subscription.unsubscribe();
      }
    });

    it('elements added by two saves at once, their derivatives held while others write, each end with their own', async () => {
      const binder = await newBinder(['base page']);
      await binders.save(binder);
      await waitForIdle(harness, suite.db.dataSource);
      const first = await binders.findOneByOrFail({ id: binder.id });
      const second = await binders.findOneByOrFail({ id: binder.id });
      await harness.attachments.attachMany(first, 'pages', [Buffer.from('first save')]);
      await harness.attachments.attachMany(second, 'pages', [
        Buffer.from('second save one'),
        Buffer.from('second save two'),
      ]);
      const held = holds.hold('derive:before-write', derivingFrom(first.pages![1]!.id));
      if (suite.db.kind === 'sqlite') {
        // TypeORM runs every transaction of a better-sqlite3 DataSource on its one query
        // runner: saves cannot overlap there, so the second waits for the first.
        await binders.save(first);
        await binders.save(second);
      } else {
        await Promise.all([binders.save(first), binders.save(second)]);
      }
      await held.reached();
      // The other new elements' promotions and derivatives commit while that write waits.
      await waitFor(async () => {
        const { pages } = await binders.findOneByOrFail({ id: binder.id });
        const done = (pages ?? []).filter((page) => page.derivatives?.upper);
        return done.length === 3 && pages?.length === 4;
      }, 'the other elements to get their derivatives');
      held.release();
      await waitForIdle(harness, suite.db.dataSource);
      const { pages } = await binders.findOneByOrFail({ id: binder.id });
      const texts = await Promise.all((pages ?? []).map(async (page) => read(page)));
      assert.equal(texts[0], '[base page]');
      // Which save took the lock first decides the order of the added elements.
      const order = texts.map((text) => text.slice(1, -1));
      assert.deepEqual([...order].sort(), [
        'base page',
        'first save',
        'second save one',
        'second save two',
      ]);
      assert.ok(order.indexOf('second save one') < order.indexOf('second save two'));
      await assertPages(binder.id, order);
    });

    it('serializes a list whose one promotion failed for good: that file failed, the others stored', async () => {
      const binder = await newBinder(['fine', 'refused']);
      const [, doomed] = binder.pages!;
      refused.add(doomed!.id);
      await binders.save(binder);
      const failed = await waitFor(async () => {
        const work = await harness.work.forRecord(binder);
        return work.find((row) => row.status === 'failed');
      }, 'the promotion to fail for good');
      await waitForIdle(harness, suite.db.dataSource);
      const { loaded, serialized, states } = await serializedPages(binder.id);
      assert.deepEqual(states, [
        ['stored', true],
        ['failed', false],
      ]);
      assert.equal(serialized[1]!.derivatives.upper!.url, serialized[1]!.url, 'falls back');
      // Cleared: the failed file leaves the list (deleting its cached copy), its work is dropped.
      refused.clear();
      harness.attachments.detach(loaded, 'pages', [doomed!.id]);
      await binders.save(loaded);
      await suite.db.dataSource.getRepository(AttachmentWork).delete({ id: failed.id });
    });

    it('regenerates the derivatives of every stored element, one job per element and name', async () => {
      const texts = ['re one', 're two', 're three'];
      const binder = await newBinder(texts);
      await binders.save(binder);
      await waitForIdle(harness, suite.db.dataSource);
      processorSwitches.upperExtension = 'md';
      const queued = await harness.work.regenerateDerivatives(Binder, 'pages', {
        names: ['upper'],
        batchSize: 1,
      });
      const elements = (await binders.find()).flatMap((row) => row.pages ?? []);
      assert.equal(queued, elements.length, 'one job per stored element');
      await waitForIdle(harness, suite.db.dataSource);
      const { pages } = await binders.findOneByOrFail({ id: binder.id });
      for (const [n, page] of (pages ?? []).entries()) {
        assert.match(page.derivatives!.upper!.id, /\/upper\.md$/);
        assert.equal(await read(page.derivatives!.upper), expected(texts[n]!).upper);
        assert.equal(await read(page.derivatives!.summary), expected(texts[n]!).summary);
      }
      // afterEach: the replaced upper.txt files were deleted.
    });

    for (const step of ['derive:before-make', 'derive:before-write'] as const) {
      it(`the same derivative job of an element run twice, held at ${step}: one result`, async () => {
        const texts = ['twice one', 'twice two'];
        const binder = await newBinder(texts);
        const target = binder.pages![1]!.id;
        firstRun.hold(step, derivingFrom(target));
        await binders.save(binder);
        await runHeldAgain(firstRun, harness.queue, 'derive');
        await waitFor(async () => {
          const counts = await harness.queue.getJobCounts('waiting', 'active', 'delayed');
          return counts.waiting === 0 && counts.delayed === 0 && counts.active === 1;
        }, 'only the held run to remain');
        firstRun.open();
        await waitForIdle(harness, suite.db.dataSource);
        await assertPages(binder.id, texts);
        assert.equal(
          await suite.db.dataSource.getRepository(AttachmentWork).count(),
          0,
          'no work left',
        );
      });
    }
  });
}
