import '../support/harness.js';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Subscription } from 'rxjs';
import { Entity, PrimaryGeneratedColumn, type Repository } from 'typeorm';
import {
  Attachment,
  Attachments,
  AttachmentEvents,
  type AttachmentEvent,
  type UploadedFile,
} from '../../src/index.js';
import { upperCase } from '../support/derivative-entities.js';
import { waitFor, waitForIdle, type Harness } from '../support/harness.js';
import { useHarness } from '../support/suite.js';

const calls: { hook: string; entity: object | null; attachment: string; detail: unknown }[] = [];

@Entity()
class Report {
  @PrimaryGeneratedColumn()
  id!: number;

  @Attachment({
    derivatives: { upper: upperCase },
    afterUpload: ({ entity, attachment, file }) =>
      calls.push({ hook: 'afterUpload', entity, attachment, detail: file }),
    onError: ({ entity, attachment, error }) =>
      calls.push({ hook: 'onError', entity, attachment, detail: error }),
  })
  body!: UploadedFile | null;
}

describe('attachment events and callbacks', () => {
  let failPromotion = false;
  const suite = useHarness('postgres', [Report], {
    jobOptions: { attempts: 2, backoff: { type: 'fixed', delay: 10 }, removeOnComplete: false },
    jobHooks: {
      onStep: (step) => {
        if (step === 'promote:before-copy' && failPromotion)
          throw new Error('promotion failed (injected)');
      },
    },
  });
  let harness: Harness;
  let reports: Repository<Report>;
  let seen: AttachmentEvent[];
  let subscription: Subscription;
  before(() => {
    harness = suite.harness;
    reports = suite.db.dataSource.getRepository(Report);
  });

  function listen() {
    seen = [];
    calls.length = 0;
    subscription?.unsubscribe();
    subscription = harness.app
      .get(AttachmentEvents, { strict: false })
      .events$.subscribe((event) => seen.push(event));
  }

  it('tells each step once, in order, with what happened', async () => {
    listen();
    const report = reports.create();
    const { token, file: cached } = await harness.attachments.cache(Buffer.from('quarterly'), {
      filename: 'q.txt',
    });
    await harness.attachments.attach(report, 'body', token);
    await reports.save(report);
    await waitForIdle(harness, suite.db.dataSource);
    const stored = (await reports.findOneByOrFail({ id: report.id })).body!;
    const target = { entity: 'Report', recordId: { id: report.id }, attachment: 'body' };

    // Events of background work carry an id that stays the same if a crash repeats them.
    const ids = seen.map((event) => ('id' in event ? event.id : undefined));
    assert.deepEqual(
      ids.map((id) => typeof id),
      ['undefined', 'undefined', 'string', 'string', 'string'],
    );
    const withoutIds = seen.map((event) => ({ ...event, id: undefined }));
    assert.match(ids[2]!, /\.promoted$/);
    assert.deepEqual(
      withoutIds.slice(0, 3),
      [
        { type: 'cached', file: cached, id: undefined },
        { type: 'attached', ...target, file: cached, id: undefined },
        {
          type: 'promoted',
          ...target,
          file: { ...stored, derivatives: undefined },
          cached,
          id: undefined,
        },
      ].map((event) => ({ ...JSON.parse(JSON.stringify(event)), id: undefined })),
    );
    const rest = withoutIds.slice(3);
    assert.deepEqual(rest.map((event) => event.type).sort(), ['deleted', 'derivative']);
    const derivative = rest.find((event) => event.type === 'derivative');
    assert.deepEqual(derivative, {
      id: undefined,
      type: 'derivative',
      ...target,
      name: 'upper',
      file: stored.derivatives!.upper,
      original: { id: stored.id, storage: 'store', metadata: stored.metadata },
    });
    const deleted = rest.find((event) => event.type === 'deleted');
    assert.deepEqual(deleted, {
      id: undefined,
      type: 'deleted',
      entity: 'Report',
      recordId: { id: report.id },
      reason: 'promoted',
      files: [{ storage: 'cache', id: cached.id }],
    });

    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.hook, 'afterUpload');
    assert.deepEqual((calls[0]!.detail as UploadedFile).id, stored.id);
    assert.ok(calls[0]!.entity instanceof Report, 'the callback gets the record as it is now');
  });

  it('tells a final failure once, and calls onError with the error', async () => {
    listen();
    failPromotion = true;
    const report = reports.create();
    await harness.attachments.attach(report, 'body', Buffer.from('doomed'), { filename: 'd.txt' });
    await reports.save(report);
    await waitFor(async () => seen.some((event) => event.type === 'failed'), 'the failed event');
    await waitForIdle(harness, suite.db.dataSource);
    const failed = seen.filter((event) => event.type === 'failed');
    assert.equal(failed.length, 1);
    assert.equal((failed[0] as { id: string }).id, `${failed[0]!.workId}.failed`);
    assert.deepEqual(
      { ...failed[0]!, workId: undefined, error: undefined, id: undefined },
      {
        id: undefined,
        type: 'failed',
        job: 'promote',
        workId: undefined,
        entity: 'Report',
        recordId: { id: report.id },
        attachment: 'body',
        attempts: 2,
        error: undefined,
      },
    );
    assert.match(String((failed[0] as { error: unknown }).error), /promotion failed \(injected\)/);
    assert.deepEqual(
      calls.map((call) => call.hook),
      ['onError'],
    );
    assert.match(String(calls[0]!.detail), /promotion failed/);
    failPromotion = false;
    subscription.unsubscribe();
  });
});

const listCalls: { hook: string; files: number }[] = [];

@Entity()
class Gallery {
  @PrimaryGeneratedColumn()
  id!: number;

  @Attachments({
    afterUpload: () => listCalls.push({ hook: 'afterUpload', files: 1 }),
    afterAllUploads: ({ files }) =>
      listCalls.push({ hook: 'afterAllUploads', files: files.length }),
  })
  images!: UploadedFile[] | null;
}

describe('list callbacks', () => {
  let arrived = 0;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const suite = useHarness('postgres', [Gallery], {
    worker: { concurrency: 5 },
    jobHooks: {
      onStep: async (step) => {
        if (step !== 'promote:before-write') return;
        arrived++;
        await released;
      },
    },
  });

  it('calls afterUpload per file and afterAllUploads once, after the last promotion', async () => {
    const { harness, db } = suite;
    const galleries = db.dataSource.getRepository(Gallery);
    const gallery = galleries.create({ images: [] });
    await harness.attachments.attachMany(gallery, 'images', [
      Buffer.from('a'),
      Buffer.from('b'),
      Buffer.from('c'),
    ]);
    await galleries.save(gallery);
    // All three promotions reach their write, then write at the same moment.
    await waitFor(async () => arrived === 3, 'three promotions at their write');
    release();
    await waitForIdle(harness, db.dataSource);
    assert.deepEqual(listCalls.filter((call) => call.hook === 'afterUpload').length, 3);
    assert.deepEqual(
      listCalls.filter((call) => call.hook === 'afterAllUploads'),
      [{ hook: 'afterAllUploads', files: 3 }],
    );
  });
});

const settled: { files: string[] }[] = [];

@Entity()
class Portfolio {
  @PrimaryGeneratedColumn()
  id!: number;

  @Attachments({
    afterAllUploads: ({ files }) => settled.push({ files: files.map((file) => file.storage) }),
  })
  pages!: UploadedFile[] | null;
}

/**
 * afterAllUploads is called once no file of the list waits for promotion any more, however
 * that came about: the last one stored, the last waiting ones removed, or the last one failed.
 */
describe('a list that settles without a last promotion', () => {
  const held = new Set<string>();
  const failing = new Set<string>();
  const suite = useHarness('postgres', [Portfolio], {
    worker: { concurrency: 5 },
    jobOptions: { attempts: 2, backoff: { type: 'fixed', delay: 10 }, removeOnComplete: false },
    jobHooks: {
      onStep: async (step, data) => {
        const id = data.kind === 'promote' ? data.file.id : '';
        if (step === 'promote:before-copy' && failing.has(id)) throw new Error('injected');
        if (step === 'promote:before-copy' && held.has(id)) {
          await waitFor(async () => !held.has(id), 'the test to release the promotion');
        }
      },
    },
  });

  async function portfolioOf(pages: number) {
    const { harness, db } = suite;
    const portfolios = db.dataSource.getRepository(Portfolio);
    const portfolio = portfolios.create({ pages: [] });
    const files = Array.from({ length: pages }, (_, n) => Buffer.from(`page ${n}`));
    await harness.attachments.attachMany(portfolio, 'pages', files);
    return { portfolio, portfolios };
  }

  it('fires when the files still waiting are removed', async () => {
    const { harness, db } = suite;
    settled.length = 0;
    const { portfolio, portfolios } = await portfolioOf(2);
    const late = portfolio.pages![1]!.id;
    held.add(late);
    await portfolios.save(portfolio);
    await waitFor(async () => {
      const row = await portfolios.findOneByOrFail({ id: portfolio.id });
      return row.pages![0]!.storage === 'store';
    }, 'the first page to be stored');
    assert.deepEqual(settled, [], 'one page still waits');

    const loaded = await portfolios.findOneByOrFail({ id: portfolio.id });
    harness.attachments.detach(loaded, 'pages', [late]);
    await portfolios.save(loaded);
    held.delete(late);
    await waitForIdle(harness, db.dataSource);
    assert.deepEqual(settled, [{ files: ['store'] }]);
  });

  it('fires when the last file waiting fails for good, with that file still cached', async () => {
    const { harness, db } = suite;
    settled.length = 0;
    const { portfolio, portfolios } = await portfolioOf(2);
    failing.add(portfolio.pages![1]!.id);
    await portfolios.save(portfolio);
    await waitFor(async () => settled.length > 0, 'afterAllUploads');
    await waitForIdle(harness, db.dataSource);
    assert.deepEqual(settled, [{ files: ['store', 'cache'] }]);
  });
});
