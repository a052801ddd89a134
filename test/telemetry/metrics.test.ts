import '../support/harness.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import type { Repository } from 'typeorm';
import { DATABASES, type TestDatabase } from '../support/databases.js';
import { CollectedMetrics } from '../support/collected-metrics.js';
import { Photo } from '../support/entities.js';
import { png } from '../support/fixtures.js';
import { waitFor, waitForIdle, type Harness } from '../support/harness.js';
import { multipart } from '../support/http-client.js';
import { tusUpload } from '../support/tus-client.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { StepGate } from '../support/step-gate.js';
import { useHarness } from '../support/suite.js';

const HIDDEN_PROCESS = fileURLToPath(
  new URL('../support/hidden-opentelemetry-process.js', import.meta.url),
);
const RECORDER = new URL('../s3/record-resolved.js', import.meta.url).href;

const UNNAMED_UPLOAD = { 'attachments.storage': 'cache' };
const PHOTO_UPLOAD = {
  ...UNNAMED_UPLOAD,
  'attachments.entity': 'Photo',
  'attachments.attachment': 'image',
};
const KINDS = ['promote', 'derive', 'delete', 'notify'];
const kind = (name: string) => ({ 'attachments.work.kind': name });
const job = (name: string, outcome: string) => ({
  'attachments.work.kind': name,
  'attachments.job.outcome': outcome,
});

/** The app's own SDK setup, before the Nest app is created. */
function startMetrics() {
  const reader = new PeriodicExportingMetricReader({
    exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
    exportIntervalMillis: 60_000,
  });
  const provider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(provider);
  return { reader, provider };
}

for (const database of DATABASES) {
  describe(`OpenTelemetry metrics on ${database}`, () => {
    let db: TestDatabase;
    let harness: Harness;
    let photos: Repository<Photo>;
    let sdk: ReturnType<typeof startMetrics>;
    const gate = new StepGate();
    const logger = new RecordingLogger();
    let storeIsDown = false;

    before(() => {
      sdk = startMetrics();
    });
    const suite = useHarness(database, [Photo], {
      http: true,
      upload: { tus: true },
      logger,
      jobHooks: {
        onStep: async (step, data) => {
          if (step === 'promote:before-copy' && storeIsDown) {
            throw new Error('store unreachable (injected)');
          }
          await gate.pass(step, data);
        },
      },
    });
    before(() => {
      ({ db, harness } = suite);
      photos = db.dataSource.getRepository(Photo);
    });
    afterEach(() => {
      // A test that failed while holding a job must not keep the app from closing.
      gate.open();
      storeIsDown = false;
    });
    after(async () => {
      metrics.disable();
      await sdk.provider.shutdown();
    });

    const collect = () => CollectedMetrics.of(sdk.reader);

    /** Runs `action` while the outbox table is out of reach, under another name. */
    async function withoutOutbox<T>(action: () => Promise<T>): Promise<T> {
      await db.dataSource.query('ALTER TABLE attachment_work RENAME TO attachment_work_away');
      try {
        return await action();
      } finally {
        await db.dataSource.query('ALTER TABLE attachment_work_away RENAME TO attachment_work');
      }
    }

    it('counts the bytes of an upload, shows its promotion pending while it runs, and times it', async () => {
      const image = png(32, 16);
      const { body, contentType } = multipart([{ name: 'file', filename: 'a.png', data: image }]);
      const response = await fetch(
        `${harness.baseUrl}/attachments/upload?entity=Photo&attachment=image`,
        { method: 'POST', headers: { 'content-type': contentType }, body },
      );
      assert.equal(response.status, 201);
      const { token } = (await response.json()) as { token: string };

      let seen = await collect();
      assert.equal(seen.number('attachments.upload.bytes', PHOTO_UPLOAD), image.length);
      assert.equal(seen.number('attachments.upload.count', PHOTO_UPLOAD), 1);
      assert.equal(seen.number('attachments.upload.count', UNNAMED_UPLOAD), undefined);
      assert.equal(seen.descriptor('attachments.upload.bytes')?.unit, 'By');
      for (const name of KINDS) {
        assert.equal(seen.number('attachments.work.pending', kind(name)), 0, name);
        assert.equal(seen.number('attachments.work.failed', kind(name)), 0, name);
      }

      gate.close('promote:before-copy');
      const photo = photos.create({ title: 'measured' });
      await harness.attachments.attach(photo, 'image', token);
      await photos.save(photo);
      await gate.reached(1);
      seen = await collect();
      assert.equal(seen.number('attachments.work.pending', kind('promote')), 1);
      assert.equal(seen.histogram('attachments.job.duration', job('promote', 'done')), undefined);

      gate.open();
      await waitForIdle(harness, db.dataSource);
      assert.equal((await photos.findOneByOrFail({ id: photo.id })).image?.storage, 'store');
      seen = await collect();
      for (const name of KINDS) {
        assert.equal(seen.number('attachments.work.pending', kind(name)), 0, name);
      }
      const promotions = seen.histogram('attachments.job.duration', job('promote', 'done'));
      assert.equal(promotions?.count, 1);
      assert.ok(promotions.sum !== undefined && promotions.sum > 0, 'the run took some time');
      assert.equal(seen.descriptor('attachments.job.duration')?.unit, 's');
      assert.equal(seen.histogram('attachments.job.duration', job('delete', 'done'))?.count, 1);
    });

    it('shows a final failure in the failed gauge and each attempt in the histogram', async () => {
      storeIsDown = true;
      const photo = photos.create({ title: 'unlucky' });
      const image = png(6, 6);
      await harness.attachments.attach(photo, 'image', image, { filename: 'u.png' });
      await photos.save(photo);
      const failed = await waitFor(
        async () => (await harness.work.failed())[0],
        'the promotion to fail for good',
      );

      let seen = await collect();
      assert.equal(seen.number('attachments.work.failed', kind('promote')), 1);
      assert.equal(seen.number('attachments.work.pending', kind('promote')), 0);
      assert.equal(seen.histogram('attachments.job.duration', job('promote', 'retry'))?.count, 2);
      assert.equal(seen.histogram('attachments.job.duration', job('promote', 'failed'))?.count, 1);
      assert.equal(seen.number('attachments.upload.count', PHOTO_UPLOAD), 2, 'attach() cached it');
      assert.equal(
        seen.number('attachments.upload.bytes', PHOTO_UPLOAD),
        png(32, 16).length + image.length,
      );

      storeIsDown = false;
      assert.equal(await harness.work.retry(failed.id), true);
      await waitForIdle(harness, db.dataSource);
      seen = await collect();
      assert.equal(seen.number('attachments.work.failed', kind('promote')), 0);
      assert.equal(seen.histogram('attachments.job.duration', job('promote', 'done'))?.count, 2);
    });

    it('keeps the last gauges when the count of the outbox fails, and logs each outage once', async () => {
      gate.close('promote:before-copy');
      const photo = photos.create({ title: 'held' });
      const { token } = await harness.attachments.cache(png(7, 7), { filename: 'h.png' });
      await harness.attachments.attach(photo, 'image', token);
      await photos.save(photo);
      await gate.reached(1);
      const before = await collect();
      assert.equal(before.number('attachments.work.pending', kind('promote')), 1);
      assert.equal(
        before.number('attachments.upload.count', UNNAMED_UPLOAD),
        1,
        'cache() names none',
      );

      const during = await withoutOutbox(async () => [await collect(), await collect()]);
      for (const seen of during) {
        // Cumulative readers keep a gauge's last value when a collection observes nothing.
        assert.equal(seen.number('attachments.work.pending', kind('promote')), 1);
      }
      const warnings = () =>
        logger.warnings.filter((line) => line.includes('Could not count the outbox'));
      assert.equal(warnings().length, 1, warnings().join('\n'));
      await collect();
      await withoutOutbox(collect);
      assert.equal(warnings().length, 2, 'a new outage is logged again');

      gate.open();
      await waitForIdle(harness, db.dataSource);
      assert.equal((await collect()).number('attachments.work.pending', kind('promote')), 0);
    });

    if (database === 'postgres') {
      it('gives up on a count that the database holds past sendTimeout, and logs it', async () => {
        const locker = db.dataSource.createQueryRunner();
        await locker.connect();
        await locker.startTransaction();
        await locker.query('LOCK TABLE attachment_work IN ACCESS EXCLUSIVE MODE');
        const earlier = logger.warnings.length;
        try {
          await collect();
        } finally {
          await locker.rollbackTransaction();
          await locker.release();
        }
        const lines = logger.warnings.slice(earlier);
        assert.ok(
          lines.some((line) => /Could not count the outbox.*no answer within 2000 ms/.test(line)),
          lines.join('\n'),
        );
      });
    }

    it('names the attachment of a tus upload', async () => {
      const before = await collect();
      const image = png(9, 9);
      await tusUpload(`${harness.baseUrl}/attachments/tus`, image, {
        metadata: { entity: 'Photo', attachment: 'image', filename: 't.png' },
      });
      const seen = await collect();
      const count = (metrics: CollectedMetrics) =>
        metrics.number('attachments.upload.count', PHOTO_UPLOAD) ?? 0;
      const bytes = (metrics: CollectedMetrics) =>
        metrics.number('attachments.upload.bytes', PHOTO_UPLOAD) ?? 0;
      assert.equal(count(seen), count(before) + 1);
      assert.equal(bytes(seen), bytes(before) + image.length);
    });
  });
}

describe('without @opentelemetry/api', () => {
  it('boots, uploads and promotes, and loads nothing of OpenTelemetry', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'resolved-'));
    const log = join(folder, 'urls.txt');
    const recorder = `import { register } from 'node:module'; register(${JSON.stringify(RECORDER)});`;
    try {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--import', `data:text/javascript,${encodeURIComponent(recorder)}`, HIDDEN_PROCESS],
        { env: { ...process.env, RESOLVED_LOG: log }, timeout: 60_000 },
      );
      const outcome = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
      assert.deepEqual(outcome, {
        upload: 201,
        storage: 'store',
        metrics: false,
        askedByRequire: [],
        requiredModules: [],
        otelGlobal: false,
      });
      const urls = (await readFile(log, 'utf8')).split('\n');
      assert.ok(
        urls.some((url) => url.includes('/@nestjs/common/')),
        'the recorder sees packages',
      );
      assert.deepEqual(
        urls.filter((url) => url.includes('/@opentelemetry/')),
        [],
      );
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
