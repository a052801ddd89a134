import '../support/harness.js';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { AttachmentsHealthIndicator } from '../../src/health.js';
import { attachmentEntities, FileSystemStorage, type Storage } from '../../src/index.js';
import {
  createTestDatabase,
  setDatabaseReachable,
  type TestDatabase,
} from '../support/databases.js';
import { DelegatingStorage } from '../support/delegating-storage.js';
import { Photo } from '../support/entities.js';
import { png } from '../support/fixtures.js';
import { startHarness, waitFor, type Harness, type HarnessOptions } from '../support/harness.js';
import { freePort, RedisServer } from '../support/processes.js';
import { useHarness } from '../support/suite.js';
import { within } from '../support/within.js';

@Controller()
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly attachments: AttachmentsHealthIndicator,
  ) {}

  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([
      () =>
        this.attachments.isHealthy('attachments', { maxPendingAgeMs: 5 * 60_000, maxFailed: 0 }),
    ]);
  }
}

/** What the app's health module adds to the attachments module. */
const withHealth: Pick<HarnessOptions, 'http' | 'imports' | 'controllers' | 'providers'> = {
  http: true,
  imports: [TerminusModule],
  controllers: [HealthController],
  providers: [AttachmentsHealthIndicator],
};

interface Probe {
  up: boolean;
  error?: string;
}

/** The attachments' part of terminus' answer. */
interface AttachmentsDetails {
  status: 'up' | 'down';
  redis: Probe;
  database: Probe;
  pending: { count: number; oldestAgeMs: number } | null;
  failed: { count: number } | null;
  storages: Record<string, Probe>;
  reasons?: string[];
}

async function getHealth(harness: Harness) {
  // Bounds a hang, so that a probe that never answers fails the test instead of stalling it.
  const response = await within(30_000, fetch(`${harness.baseUrl}/health`), 'GET /health');
  const body = (await response.json()) as {
    status: string;
    details: { attachments: AttachmentsDetails };
  };
  return { status: response.status, overall: body.status, attachments: body.details.attachments };
}

describe('the health endpoint, on postgres with a worker', () => {
  let storeIsDown = false;
  const suite = useHarness('postgres', [Photo], {
    ...withHealth,
    jobHooks: {
      onStep: (step) => {
        if (step === 'promote:before-copy' && storeIsDown) {
          throw new Error('store unreachable (injected)');
        }
      },
    },
  });

  it('answers 200 when Redis, the database and every storage answer and no work waits', async () => {
    const { status, overall, attachments } = await getHealth(suite.harness);
    assert.equal(status, 200);
    assert.equal(overall, 'ok');
    assert.equal(attachments.status, 'up');
    assert.equal(attachments.redis.up, true);
    assert.equal(attachments.database.up, true);
    assert.deepEqual(Object.keys(attachments.storages).sort(), ['cache', 'store']);
    assert.ok(Object.values(attachments.storages).every((storage) => storage.up));
    assert.deepEqual(attachments.pending, { count: 0, oldestAgeMs: 0 });
    assert.deepEqual(attachments.failed, { count: 0 });
  });

  it('counts work that failed for good, and answers 503 past maxFailed', async () => {
    const photos = suite.db.dataSource.getRepository(Photo);
    storeIsDown = true;
    const photo = photos.create({ title: 'unlucky' });
    await suite.harness.attachments.attach(photo, 'image', png(4, 4), { filename: 'u.png' });
    await photos.save(photo);
    await waitFor(
      async () => (await suite.harness.work.forRecord(photo))[0]?.status === 'failed',
      'the promotion to fail for good',
    );

    const { status, overall, attachments } = await getHealth(suite.harness);
    assert.equal(status, 503);
    assert.equal(overall, 'error');
    assert.equal(attachments.status, 'down');
    assert.deepEqual(attachments.failed, { count: 1 });
    assert.equal(attachments.redis.up, true);
    assert.deepEqual(attachments.reasons, ['1 failed work item(s) (max 0)']);
  });
});

/** A store whose every call fails while `broken` is set, as an S3 bucket that went away. */
class BreakableStorage extends DelegatingStorage {
  broken = false;

  override stat(id: string) {
    if (this.broken) return Promise.reject(new Error('bucket gone (injected)'));
    return super.stat(id);
  }
}

describe('the health endpoint, on sqlite without a worker', () => {
  let directory: string;
  let store: BreakableStorage;
  let storages: Record<string, Storage>;

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'attachments-health-'));
    store = new BreakableStorage(new FileSystemStorage({ directory: join(directory, 'store') }));
    storages = { cache: new FileSystemStorage({ directory: join(directory, 'cache') }), store };
  });
  after(() => rm(directory, { recursive: true, force: true }));

  const suite = useHarness('sqlite', [Photo], {
    ...withHealth,
    worker: false,
    get storages() {
      return storages;
    },
  });

  it('reports how long the oldest pending work has waited, and stays up under maxPendingAgeMs', async () => {
    const photos = suite.db.dataSource.getRepository(Photo);
    const photo = photos.create({ title: 'waiting' });
    await suite.harness.attachments.attach(photo, 'image', png(4, 4), { filename: 'w.png' });
    await photos.save(photo);

    const { status, attachments } = await waitFor(async () => {
      const answer = await getHealth(suite.harness);
      return (answer.attachments.pending?.oldestAgeMs ?? 0) > 0 && answer;
    }, 'the pending work to age');
    assert.equal(status, 200);
    assert.equal(attachments.pending?.count, 1, 'the promotion waits: no worker runs it');
    assert.deepEqual(attachments.failed, { count: 0 });
  });

  it('answers 503 naming a storage that fails, and up again once it answers', async () => {
    store.broken = true;
    const down = await getHealth(suite.harness);
    assert.equal(down.status, 503);
    assert.deepEqual(down.attachments.storages.store, {
      up: false,
      error: 'bucket gone (injected)',
    });
    assert.equal(down.attachments.storages.cache?.up, true);
    assert.deepEqual(down.attachments.reasons, [
      'storage "store" is unreachable: bucket gone (injected)',
    ]);

    store.broken = false;
    assert.equal((await getHealth(suite.harness)).status, 200);
  });
});

describe('the health endpoint through outages of the database and Redis', () => {
  let db: TestDatabase;
  let redis: RedisServer;
  let harness: Harness;

  before(async () => {
    db = await createTestDatabase('postgres', [Photo, ...attachmentEntities]);
    redis = new RedisServer(await freePort());
    await redis.start();
    harness = await startHarness({
      ...withHealth,
      dataSource: db.dataSource,
      connection: { host: '127.0.0.1', port: redis.port },
      worker: false,
      sendTimeout: 500,
    });
  });

  after(async () => {
    await harness?.close();
    await redis?.kill();
    await db?.close();
  });

  it('answers 503 naming the database while it refuses connections, and 200 once it is back', async () => {
    await setDatabaseReachable(db, false);
    try {
      const { status, attachments } = await getHealth(harness);
      assert.equal(status, 503);
      assert.equal(attachments.database.up, false);
      assert.equal(attachments.pending, null);
      assert.equal(attachments.failed, null);
      assert.equal(attachments.redis.up, true);
      assert.match(attachments.reasons?.join('\n') ?? '', /^the database is unreachable: /);
    } finally {
      await setDatabaseReachable(db, true);
    }
    await waitFor(async () => (await getHealth(harness)).status === 200, 'the database to answer');
  });

  it('answers 503 naming Redis when it stops answering, within the probe timeout', async () => {
    await harness.queue.waitUntilReady();
    redis.pause();
    try {
      const { status, attachments } = await getHealth(harness);
      assert.equal(status, 503);
      assert.deepEqual(attachments.redis, { up: false, error: 'no answer within 500 ms' });
      assert.equal(attachments.database.up, true);
    } finally {
      redis.resume();
    }
    assert.equal((await getHealth(harness)).status, 200, 'up again once Redis answers');
  });

  it('answers 503 naming Redis, without waiting for it', async () => {
    await harness.queue.waitUntilReady();
    assert.equal((await getHealth(harness)).attachments.redis.up, true);

    await redis.kill();
    const { status, attachments } = await getHealth(harness);
    assert.equal(status, 503);
    assert.equal(attachments.redis.up, false);
    assert.ok(attachments.redis.error, 'the probe says why');
    assert.equal(attachments.database.up, true, 'the database still answers');
    assert.deepEqual(attachments.pending, { count: 0, oldestAgeMs: 0 });
    assert.equal(attachments.reasons?.length, 1);
    assert.match(attachments.reasons![0]!, /^redis is unreachable: /);
  });
});
