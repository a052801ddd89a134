import '../support/harness.js';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, afterEach, before, describe, it } from 'node:test';
import { DataSource, type Repository } from 'typeorm';
import { attachmentEntities, FileSystemStorage } from '../../src/index.js';
import type { ListOptions, UploadOptions } from '../../src/storage/authoring.js';
import { OnDemandDerivatives } from '../../src/attaching/index.js';
import { derivativeFolder } from '../../src/derivatives/index.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { DelegatingStorage } from '../support/delegating-storage.js';
import { png } from '../support/fixtures.js';
import {
  listFiles,
  referencedFiles,
  startHarness,
  storedFiles,
  waitFor,
  waitForIdle,
  type Harness,
} from '../support/harness.js';
import { rawRequest, type RawResponse } from '../support/http-client.js';
import { Cover, Poster, thumbWatch } from '../support/on-demand-entities.js';

/** A storage that runs a test's step after the next upload, or before the next listing. */
class SteppedStorage extends DelegatingStorage {
  afterUpload?: () => Promise<void>;
  beforeList?: () => Promise<void>;

  override async upload(id: string, body: Readable | Buffer, options?: UploadOptions) {
    await this.inner.upload(id, body, options);
    const step = this.afterUpload;
    this.afterUpload = undefined;
    await step?.();
  }

  override list(prefix?: string, options?: ListOptions) {
    const step = this.beforeList;
    this.beforeList = undefined;
    if (!step) return this.inner.list(prefix, options);
    const inner = this.inner;
    return (async function* () {
      await step();
      yield* inner.list(prefix, options);
    })();
  }
}

function signal() {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

describe('on-demand derivatives made by two processes at once, on postgres', () => {
  let db: TestDatabase;
  let secondDataSource: DataSource;
  let directory: string;
  /** Process A gives up on its makings quickly; B serves HTTP only. */
  let a: Harness;
  let b: Harness;
  const stores: Record<'a' | 'b', SteppedStorage> = {} as Record<'a' | 'b', SteppedStorage>;
  let posters: Repository<Poster>;

  before(async () => {
    const entities = [Poster, Cover, ...attachmentEntities];
    db = await createTestDatabase('postgres', entities);
    secondDataSource = await new DataSource(db.options).initialize();
    directory = await mkdtemp(join(tmpdir(), 'attachments-two-processes-'));
    const storages = (name: 'a' | 'b') => {
      stores[name] = new SteppedStorage(
        new FileSystemStorage({ directory: join(directory, 'store') }),
      );
      return {
        cache: new FileSystemStorage({ directory: join(directory, 'cache') }),
        store: stores[name],
      };
    };
    a = await startHarness({
      dataSource: db.dataSource,
      directory,
      storages: storages('a'),
      http: true,
      derivatives: { onDemand: { timeout: 300 } },
    });
    b = await startHarness({
      dataSource: secondDataSource,
      directory,
      storages: storages('b'),
      http: true,
      worker: false,
    });
    posters = db.dataSource.getRepository(Poster);
  });

  after(async () => {
    await b?.close();
    await a?.close();
    await secondDataSource?.destroy();
    await db?.close();
    await rm(directory, { recursive: true, force: true });
  });

  afterEach(async () => {
    thumbWatch.reset();
    await waitForIdle(a, db.dataSource);
    assert.deepEqual(
      await storedFiles(a.storages),
      await referencedFiles(db.dataSource, [{ entity: Poster, properties: ['image'] }]),
      'every stored file is named by a column, and every named file is stored',
    );
  });

  const get = (harness: Harness, path: string) =>
    rawRequest(`${harness.baseUrl}${path}`, { method: 'GET' }) as Promise<RawResponse>;

  it("never lets a write name the file another process's cleanup removed", async () => {
    const poster = posters.create();
    await a.attachments.attach(poster, 'image', png(40, 30, 1), { filename: 'poster.png' });
    await posters.save(poster);
    await waitForIdle(a, db.dataSource);
    const saved = await posters.findOneByOrFail({ id: poster.id });
    const url = await a.attachments.url(saved.image!, {
      derivative: 'thumb',
      record: saved,
      attachment: 'image',
    });
    const thumb = `${derivativeFolder(saved.image!)}thumb.webp`;

    // A's making runs past its time limit; B's starts meanwhile.
    thumbWatch.hold();
    const answerOfA = get(a, url);
    await thumbWatch.reached(1);
    assert.equal((await answerOfA).status, 503);
    const answerOfB = get(b, url);
    await thumbWatch.reached(2);

    // A cleans up under the row lock after B stored the file, and B writes once A holds it.
    const aLocked = signal();
    const bStored = signal();
    stores.a.beforeList = async () => {
      aLocked.resolve();
      await bStored.promise;
    };
    stores.b.afterUpload = async () => {
      bStored.resolve();
      await aLocked.promise;
    };
    thumbWatch.open();

    const refused = await answerOfB;
    assert.equal(refused.status, 503);
    assert.equal(refused.json?.code, 'derivative_busy');
    const makings = a.app.get(OnDemandDerivatives, { strict: false });
    await waitFor(async () => makings.load.running === 0, "A's making to end");
    assert.ok(!(await listFiles(a.storages.store!)).includes(thumb));
    const now = await posters.findOneByOrFail({ id: poster.id });
    assert.equal(now.image!.derivatives?.thumb, undefined);

    // The client tries again, and gets it.
    assert.equal((await get(b, url)).status, 200);
    assert.equal(
      (await posters.findOneByOrFail({ id: poster.id })).image!.derivatives!.thumb!.id,
      thumb,
    );
  });
});
