import '../support/harness.js';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  context,
  createTraceState,
  propagation,
  SpanStatusCode,
  trace,
  type Span,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';
import { Column, Entity, PrimaryGeneratedColumn, type Repository } from 'typeorm';
import {
  Attachment,
  AttachmentWork,
  attachmentEntities,
  type UploadedFile,
} from '../../src/index.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { upperCase } from '../support/derivative-entities.js';
import { png } from '../support/fixtures.js';
import { startHarness, waitFor, type Harness } from '../support/harness.js';
import { multipart } from '../support/http-client.js';
import { freePort, RedisServer } from '../support/processes.js';
import { tusUpload } from '../support/tus-client.js';
import { OpenTelemetry, Tracing } from '../../src/telemetry/index.js';
import { useHarness } from '../support/suite.js';

@Entity()
class Report {
  @PrimaryGeneratedColumn()
  id!: number;

  @Attachment({ derivatives: { upper: upperCase } })
  document!: UploadedFile | null;

  @Column({ type: 'varchar', default: '' })
  title!: string;
}

// The app's SDK: here spans are kept in memory; an app exports them to its collector.
const exporter = new InMemorySpanExporter();
trace.setGlobalTracerProvider(
  new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }),
);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());

after(() => {
  trace.disable();
  context.disable();
  propagation.disable();
});

const tracer = trace.getTracer('tracing-test');

/** Runs `fn` in a root span of the test's own, as an app's request handler would. */
async function inRootSpan(name: string, fn: (root: Span) => Promise<void>): Promise<ReadableSpan> {
  await tracer.startActiveSpan(name, async (root) => {
    try {
      await fn(root);
    } finally {
      root.end();
    }
  });
  return exporter.getFinishedSpans().find((span) => span.name === name)!;
}

type TraceHeaders = Record<string, string>;

/** The W3C headers of the active span, as an instrumented client sends them. */
function traceHeaders(): TraceHeaders {
  const headers: TraceHeaders = {};
  propagation.inject(context.active(), headers);
  return headers;
}

/** The finished spans of one trace, waited for until `done` says they are all there. */
function spansOf(traceId: string, done: (spans: ReadableSpan[]) => boolean, what: string) {
  return waitFor(async () => {
    const spans = exporter
      .getFinishedSpans()
      .filter((span) => span.spanContext().traceId === traceId);
    return done(spans) && spans;
  }, what);
}

const named = (spans: ReadableSpan[], name: string, attributes: Record<string, unknown> = {}) =>
  spans.filter(
    (span) =>
      span.name === name &&
      Object.entries(attributes).every(([key, value]) => span.attributes[key] === value),
  );

function one(spans: ReadableSpan[], name: string, attributes: Record<string, unknown> = {}) {
  const found = named(spans, name, attributes);
  assert.equal(found.length, 1, `one ${name} ${JSON.stringify(attributes)}: ${found.length}`);
  return found[0]!;
}

function assertChild(child: ReadableSpan, parent: ReadableSpan): void {
  assert.equal(child.spanContext().traceId, parent.spanContext().traceId, child.name);
  assert.equal(
    child.parentSpanContext?.spanId,
    parent.spanContext().spanId,
    `${child.name} is a child of ${parent.name}`,
  );
}

/**
 * Waits for the promotion recorded under `root`, its derivative and the cached copy's deletion,
 * and checks their parents: the promotion under `root`, its steps under it, and the work its
 * write recorded under the write.
 */
async function promotionUnder(root: ReadableSpan, what: string) {
  const spans = await spansOf(
    root.spanContext().traceId,
    (all) =>
      named(all, 'attachments.promote').length > 0 &&
      named(all, 'attachments.derive').length > 0 &&
      named(all, 'attachments.delete').length > 0,
    what,
  );
  const promote = one(spans, 'attachments.promote');
  assertChild(promote, root);
  const copy = one(spans, 'attachments.copy');
  assertChild(copy, promote);
  const write = one(spans, 'attachments.write');
  assertChild(write, promote);
  const derive = one(spans, 'attachments.derive', { 'attachments.derivative': 'upper' });
  assertChild(derive, write);
  const deletion = one(spans, 'attachments.delete', { 'attachments.reason': 'promoted' });
  assertChild(deletion, write);
  return { spans, promote, copy, write, derive, deletion };
}

describe('tracing, from the upload to the last job', () => {
  /** The cached file whose promotion fails before its write. */
  let failPromotionOf: string | undefined;
  const staging = mkdtempSync(join(tmpdir(), 'attachments-tus-'));
  after(() => rm(staging, { recursive: true, force: true }));
  const suite = useHarness('postgres', [Report], {
    http: true,
    upload: { tus: { directory: staging } },
    jobHooks: {
      onStep: (step, data) => {
        if (
          step === 'promote:before-write' &&
          data.kind === 'promote' &&
          data.file.id === failPromotionOf
        ) {
          throw new Error('the write was refused (injected)');
        }
        return Promise.resolve();
      },
    },
  });
  let harness: Harness;
  let reports: Repository<Report>;
  before(() => {
    harness = suite.harness;
    reports = suite.db.dataSource.getRepository(Report);
  });
  afterEach(() => {
    failPromotionOf = undefined;
  });

  /** In a root span: an upload sent with the span's trace headers, then its attach and save. */
  async function uploadAndSave(name: string, upload: (headers: TraceHeaders) => Promise<string>) {
    let report!: Report;
    const root = await inRootSpan(name, async () => {
      const token = await upload(traceHeaders());
      report = reports.create({ title: name });
      await harness.attachments.attach(report, 'document', token);
      await reports.save(report);
    });
    return { root, report };
  }

  it('puts the upload, the attach, the promotion (copy, write), a derivative and the cached copy deletion in one trace', async () => {
    const image = png(6, 6);
    const { root, report } = await uploadAndSave('checkout', async (headers) => {
      const { body, contentType } = multipart([{ name: 'file', filename: 'r.png', data: image }]);
      const response = await fetch(
        `${harness.baseUrl}/attachments/upload?entity=Report&attachment=document`,
        { method: 'POST', headers: { ...headers, 'content-type': contentType }, body },
      );
      assert.equal(response.status, 201);
      return ((await response.json()) as { token: string }).token;
    });
    const { spans, promote, copy, write, derive, deletion } = await promotionUnder(
      root,
      'the jobs of the save',
    );

    const upload = one(spans, 'attachments.upload');
    assertChild(upload, root);
    assert.deepEqual(upload.attributes, {
      'attachments.storage': 'cache',
      'attachments.entity': 'Report',
      'attachments.attachment': 'document',
      'attachments.bytes': image.length,
      'attachments.mime_type': 'image/png',
    });
    const attach = one(spans, 'attachments.attach');
    assertChild(attach, root);
    assert.equal(attach.attributes['attachments.entity'], 'Report');
    assert.equal(attach.attributes['attachments.attachment'], 'document');

    assert.equal(promote.kind, 4 /* SpanKind.CONSUMER */);
    assert.equal(promote.attributes['attachments.entity'], 'Report');
    assert.equal(promote.attributes['attachments.record_id'], report.id);
    assert.equal(promote.attributes['attachments.attachment'], 'document');
    assert.equal(promote.attributes['attachments.storage'], 'store');
    assert.equal(promote.attributes['attachments.outcome'], 'promoted');
    assert.equal(copy.attributes['attachments.storage'], 'store');
    assert.equal(write.attributes['attachments.outcome'], 'written');
    assert.equal(derive.attributes['attachments.record_id'], report.id);
    assert.equal(deletion.attributes['attachments.storage'], 'cache');
    for (const span of spans) assert.equal(span.status.code, SpanStatusCode.UNSET, span.name);
  });

  it('puts a resumable (tus) upload in the trace of the request that brings its last byte', async () => {
    const image = png(7, 7);
    const { root } = await uploadAndSave('tus checkout', async (headers) => {
      const { answer } = await tusUpload(`${harness.baseUrl}/attachments/tus`, image, {
        headers,
        metadata: { entity: 'Report', attachment: 'document', filename: 't.png' },
      });
      return answer.token;
    });
    const { spans } = await promotionUnder(root, 'the jobs of the tus upload');
    const upload = one(spans, 'attachments.upload');
    assertChild(upload, root);
    assert.deepEqual(upload.attributes, {
      'attachments.storage': 'cache',
      'attachments.protocol': 'tus',
      'attachments.entity': 'Report',
      'attachments.attachment': 'document',
      'attachments.bytes': image.length,
      'attachments.mime_type': 'image/png',
    });
    assert.equal(upload.status.code, SpanStatusCode.UNSET);
  });

  it('records a failing job on its span, as an exception with status ERROR', async () => {
    const report = reports.create({ title: 'broken' });
    const root = await inRootSpan('broken save', async () => {
      const file = await harness.attachments.attach(report, 'document', png(5, 5), {
        filename: 'b.png',
      });
      failPromotionOf = file!.id;
      await reports.save(report);
    });
    const spans = await spansOf(
      root.spanContext().traceId,
      (all) => named(all, 'attachments.promote').length > 0,
      'a failed promotion',
    );
    const [failed] = named(spans, 'attachments.promote');
    assertChild(failed!, root);
    assert.equal(failed!.status.code, SpanStatusCode.ERROR);
    assert.equal(failed!.status.message, 'the write was refused (injected)');
    const exception = failed!.events.find((event) => event.name === 'exception');
    assert.equal(exception?.attributes?.['exception.message'], 'the write was refused (injected)');
    // The copy before the refused step went well.
    assert.equal(one(spans, 'attachments.copy').status.code, SpanStatusCode.UNSET);
  });

  it('records a refused upload on its span', async () => {
    const root = await inRootSpan('refused upload', async () => {
      const response = await fetch(`${harness.baseUrl}/attachments/upload`, {
        method: 'POST',
        headers: { ...traceHeaders(), 'content-type': 'text/plain' },
        body: 'not a form',
      });
      assert.equal(response.status, 400);
    });
    const [upload] = await spansOf(
      root.spanContext().traceId,
      (all) => named(all, 'attachments.upload').length > 0,
      'the refused upload',
    );
    assertChild(upload!, root);
    assert.equal(upload!.status.code, SpanStatusCode.ERROR);
    assert.match(upload!.status.message ?? '', /multipart\/form-data/);
  });
});

describe('tracing across an outage of Redis', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('postgres', [Report, ...attachmentEntities]);
  });
  after(async () => {
    await db?.close();
  });

  it('a job the relay sends once Redis is back continues the trace of the save', async () => {
    const redis = new RedisServer(await freePort());
    await redis.start();
    const harness = await startHarness({
      dataSource: db.dataSource,
      connection: { host: '127.0.0.1', port: redis.port },
      relay: { interval: 200, after: 100 },
    });
    try {
      const reports = db.dataSource.getRepository(Report);
      const report = reports.create({ title: 'offline' });
      const root = await inRootSpan('offline save', async () => {
        await harness.attachments.attach(report, 'document', png(7, 7), { filename: 'o.png' });
        await redis.kill();
        await reports.save(report); // the job cannot be queued now
      });
      const [pending] = await db.dataSource
        .getRepository(AttachmentWork)
        .findBy({ status: 'pending' });
      assert.equal(pending?.kind, 'promote', 'the promotion waits in the outbox');
      assert.equal(
        pending.payload.trace?.traceparent.split('-')[1],
        root.spanContext().traceId,
        'with the trace of the save',
      );

      await redis.start();
      const { promote } = await promotionUnder(root, 'the jobs after Redis came back');
      assert.equal(promote.attributes['attachments.record_id'], report.id);
    } finally {
      await harness.close();
      await redis.kill();
    }
  });
});

describe('the trace context that work carries', () => {
  let tracing: Tracing;
  before(async () => {
    tracing = new Tracing(await OpenTelemetry.load());
  });

  it('is the active span, with its tracestate, and nothing outside a span', async () => {
    assert.equal(tracing.captureContext(), undefined);
    const state = createTraceState('vendor=value');
    const parent = trace.setSpanContext(context.active(), {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
      traceState: state,
    });
    const carrier = await context.with(parent, () =>
      tracer.startActiveSpan('recording', async (span) => {
        span.end();
        return { carrier: tracing.captureContext(), spanId: span.spanContext().spanId };
      }),
    );
    assert.deepEqual(carrier.carrier, {
      traceparent: `00-0af7651916cd43dd8448eb211c80319c-${carrier.spanId}-01`,
      tracestate: 'vendor=value',
    });
    const resumed = tracing.withContext(carrier.carrier, () =>
      trace.getSpanContext(context.active()),
    );
    assert.equal(resumed?.spanId, carrier.spanId);
    assert.equal(resumed?.isRemote, true);
    assert.equal(resumed?.traceState?.get('vendor'), 'value');
  });

  it('a carrier that is not valid starts a new trace instead', () => {
    for (const traceparent of [
      'garbage',
      'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      '00-00000000000000000000000000000000-b7ad6b7169203331-01',
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra',
    ]) {
      const resumed = tracing.withContext({ traceparent }, () =>
        trace.getSpanContext(context.active()),
      );
      assert.equal(resumed, undefined, traceparent);
    }
  });
});
