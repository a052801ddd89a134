import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import { Cluster, Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import {
  AttachmentConfigurationError,
  FileSystemStorage,
  MemoryStorage,
  type AttachmentsModuleOptions,
  type Storage,
} from '../../src/index.js';
import { AttachmentsConfig } from '../../src/config/index.js';
import { S3Storage } from '../../src/s3/index.js';

const dataSourceOf = (type: string) => ({ options: { type } }) as unknown as DataSource;

const valid: AttachmentsModuleOptions = {
  dataSource: dataSourceOf('postgres'),
  storages: { cache: new MemoryStorage(), store: new MemoryStorage() },
  connection: { host: '127.0.0.1', port: 6379 },
  secret: 'a'.repeat(32),
};

// Building a client needs no network: nothing is sent until a request is made.
const S3_CLIENT = {
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: 'key', secretAccessKey: 'secret' },
};

function refuses(overrides: Partial<AttachmentsModuleOptions>, message: RegExp) {
  assert.throws(
    () => new AttachmentsConfig({ ...valid, ...overrides }),
    (error: Error) => error instanceof AttachmentConfigurationError && message.test(error.message),
  );
}

describe('module options', () => {
  it('apply documented defaults', () => {
    const config = new AttachmentsConfig(valid);
    assert.equal(config.cacheStorage, 'cache');
    assert.equal(config.storeStorage, 'store');
    assert.equal(config.tokenTtl, 6 * 3_600_000);
    assert.equal(config.cacheTtl, 24 * 3_600_000);
    assert.equal(config.cacheDeleteDelay, 60_000);
    assert.deepEqual(config.worker, {
      concurrency: 5,
      lockDuration: 30_000,
      stalledInterval: 30_000,
      maxStalledCount: 1,
    });
    assert.equal(config.jobOptions.attempts, 8);
    assert.equal(config.sendTimeout, 2000);
    assert.equal(config.failedWorkRetention, 30 * 24 * 3_600_000);
    assert.equal(config.uploadIdleTimeout, 30_000);
    assert.equal(new AttachmentsConfig({ ...valid, worker: false }).worker, null);
    assert.deepEqual(config.uploadDrain, { maxBytes: 64 * 1024 * 1024, timeout: 10_000 });
    assert.deepEqual(
      new AttachmentsConfig({ ...valid, upload: { drain: { timeout: 0 } } }).uploadDrain,
      { maxBytes: 64 * 1024 * 1024, timeout: 0 },
    );
  });

  it('refuse what cannot work, saying why', () => {
    refuses({ secret: 'short' }, /`secret` must be a string of at least 32 characters/);
    refuses({ storages: { cache: new MemoryStorage() } }, /no storage named "store"/);
    refuses({ storeStorage: 'cache' }, /cache and store storages must be different/);
    refuses({ tokenTtl: 10_000, cacheTtl: 10_000 }, /`cacheTtl` must be longer than `tokenTtl`/);
    refuses({ dataSource: undefined as unknown as DataSource }, /`dataSource` is required/);
    refuses({ upload: { drain: { maxBytes: -1 } } }, /`upload\.drain\.maxBytes` must be .* got -1/);
    refuses({ upload: { drain: { timeout: Infinity } } }, /`upload\.drain\.timeout` must be/);
    for (const idleTimeout of [0, -1, Number.NaN, Infinity]) {
      refuses({ upload: { idleTimeout } }, /`upload.idleTimeout` must be a positive number/);
    }
  });

  it('refuse uploads that name no attachment unless upload.unnamed opts in', () => {
    const config = new AttachmentsConfig(valid);
    assert.equal(config.unnamedUploads, null);
    assert.equal(config.uploadMaxSize, 100 * 1024 * 1024);
    assert.equal(config.uploadMaxPixels, 100_000_000);
    const opted = new AttachmentsConfig({
      ...valid,
      upload: { maxSize: 1000, maxPixels: 50, unnamed: { allowedTypes: ['image/*'] } },
    });
    assert.deepEqual(opted.unnamedUploads, {
      allowedTypes: ['image/*'],
      maxSize: 1000,
      allowEmpty: false,
      maxPixels: 50,
    });
    // An attachment's own options win; the module fills in maxPixels and refuses empty files.
    assert.deepEqual(opted.rulesOf({ allowedTypes: ['text/plain'], maxPixels: 7 }), {
      maxSize: undefined,
      allowedTypes: ['text/plain'],
      allowEmpty: false,
      maxPixels: 7,
    });
    assert.equal(opted.rulesOf({}).maxPixels, 50);
  });

  it('refuse the option of 0.2 for unnamed uploads, and unnamed rules without types', () => {
    const legacy = { allowedTypes: ['image/*'] } as AttachmentsModuleOptions['upload'];
    refuses({ upload: legacy }, /`upload\.allowedTypes` is gone.*`upload\.unnamed/);
    const untyped = { unnamed: {} } as AttachmentsModuleOptions['upload'];
    refuses({ upload: untyped }, /`upload\.unnamed\.allowedTypes` must list the accepted types/);
    refuses(
      { upload: { unnamed: { allowedTypes: [] } } },
      /`upload\.unnamed\.allowedTypes` must list/,
    );
    refuses({ upload: { maxPixels: -1 } }, /`upload\.maxPixels` must be a finite number/);
  });

  it('name the configured storages when an unknown one is asked for', () => {
    assert.throws(
      () => new AttachmentsConfig(valid).storage('s3'),
      /Unknown storage "s3"; configured: cache, store/,
    );
  });
});

describe('the cache storage kept apart from the other storages', () => {
  // The sweep deletes expired files of the cache: a storage sharing its files would lose them.
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'attachments-overlap-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  const folder = (...parts: string[]) => new FileSystemStorage({ directory: join(root, ...parts) });
  const s3 = (bucket: string, prefix: string, endpoint = 'http://127.0.0.1:9000') =>
    new S3Storage({ clientConfig: { endpoint, ...S3_CLIENT }, bucket, prefix });
  const accepts = (storages: Record<string, Storage>) =>
    assert.doesNotThrow(() => new AttachmentsConfig({ ...valid, storages }));

  it('refuses one folder for both, naming both storages and the folder', () => {
    const location = `${pathToFileURL(join(root, 'files')).href}/`;
    const storages = { cache: folder('files'), store: folder('x', '..', 'files') };
    assert.throws(
      () => new AttachmentsConfig({ ...valid, storages }),
      (error: Error) =>
        error instanceof AttachmentConfigurationError &&
        error.message.includes(
          `cache storage "cache" (${location}) overlaps "store" (${location})`,
        ),
    );
  });

  it('refuses a store inside the cache folder, and a cache inside the store folder', () => {
    refuses({ storages: { cache: folder('files'), store: folder('files', 'store') } }, /overlaps/);
    refuses({ storages: { cache: folder('files', 'cache'), store: folder('files') } }, /overlaps/);
  });

  it('compares every storage with the cache, not only the store', () => {
    refuses(
      {
        storages: { cache: folder('cache'), store: folder('store'), archive: folder('cache', 'a') },
      },
      /cache storage "cache" .* overlaps "archive"/,
    );
  });

  it('refuses a tus folder inside a storage folder, or around one, and takes a sibling', () => {
    const storages = { cache: folder('cache'), store: folder('store') };
    const tus = (...parts: string[]) => ({
      storages,
      upload: { tus: { directory: join(root, ...parts) } },
    });
    refuses(tus('cache', 'tus'), /`upload\.tus\.directory` .* overlaps the storage "cache"/);
    refuses(tus(), /overlaps the storage "cache"/);
    refuses(tus('store'), /overlaps the storage "store"/);
    refuses({ upload: { tus: { directory: '' } } }, /`upload\.tus\.directory` is empty/);
    assert.equal(
      new AttachmentsConfig({ ...valid, ...tus('tus') }).tus?.directory,
      join(root, 'tus'),
    );
    assert.equal(new AttachmentsConfig(valid).tus, null, 'off by default');
  });

  it('accepts sibling folders, even when one name starts with the other', () => {
    accepts({ cache: folder('cache'), store: folder('store') });
    accepts({ cache: folder('cache'), store: folder('cache2') });
    accepts({ cache: folder('cache2'), store: folder('cache') });
  });

  it('refuses nested key prefixes of one bucket on one endpoint', () => {
    refuses(
      { storages: { cache: s3('files', ''), store: s3('files', 'store/') } },
      /"cache" \(s3:\/\/127\.0\.0\.1:9000\/files\/\) overlaps "store" \(s3:\/\/127\.0\.0\.1:9000\/files\/store\/\)/,
    );
    refuses({ storages: { cache: s3('files', 'a/cache'), store: s3('files', 'a') } }, /overlaps/);
    const aws = (region: string, prefix: string) =>
      new S3Storage({ clientConfig: { region }, bucket: 'files', prefix });
    // Bucket names are global on AWS: the region does not make two buckets of one name.
    refuses(
      { storages: { cache: aws('eu-west-1', ''), store: aws('us-east-1', 'store') } },
      /\(s3:\/\/aws\/files\/\) overlaps "store" \(s3:\/\/aws\/files\/store\/\)/,
    );
    refuses(
      {
        storages: {
          cache: s3('files', 'cache'),
          store: s3('files', 'cache/', 'http://127.0.0.1:9000/'),
        },
      },
      /overlaps/,
    );
  });

  it('refuses nested prefixes through one shared client, whose endpoint is not known up front', () => {
    const client = new S3Client({ endpoint: 'http://127.0.0.1:9000', ...S3_CLIENT });
    const cache = new S3Storage({ client, bucket: 'files', prefix: 'cache/' });
    refuses(
      {
        storages: { cache, store: new S3Storage({ client, bucket: 'files', prefix: 'cache/x/' }) },
      },
      /overlaps/,
    );
    accepts({ cache, store: new S3Storage({ client, bucket: 'files', prefix: 'store/' }) });
  });

  it('accepts disjoint prefixes, other buckets and other endpoints', () => {
    accepts({ cache: s3('files', 'cache/'), store: s3('files', 'store/') });
    accepts({ cache: s3('files', 'cache/'), store: s3('files', 'cache2/') });
    accepts({ cache: s3('cache', ''), store: s3('store', '') });
    accepts({ cache: s3('files', ''), store: s3('files', '', 'http://127.0.0.1:9001') });
    accepts({ cache: s3('files', ''), store: folder('store') });
  });

  it('refuses one storage object configured as the cache and under another name', () => {
    const storage = new MemoryStorage();
    refuses(
      { storages: { cache: storage, store: storage } },
      /cache storage "cache" is also "store"/,
    );
  });
});

describe('the Redis connection', () => {
  const cluster = { cluster: { nodes: [{ host: '127.0.0.1', port: 7000 }] } };

  it('tags the default prefix on a cluster, so the queue keys share a slot', () => {
    assert.equal(new AttachmentsConfig({ ...valid, connection: cluster }).queuePrefix, '{bull}');
    assert.equal(new AttachmentsConfig(valid).queuePrefix, undefined, "BullMQ's own default");
  });

  it('refuses a prefix without a hash tag on a cluster, saying what to write', () => {
    refuses(
      { connection: cluster, queuePrefix: 'myapp' },
      /Redis Cluster.*hash tag.*"\{myapp\}".*one slot; got "myapp"/,
    );
    for (const prefix of ['{}myapp', 'my{app', 'my}app{']) {
      refuses({ connection: cluster, queuePrefix: prefix }, /hash tag/);
    }
    for (const prefix of ['{myapp}', 'myapp:{eu}', '{a}b']) {
      assert.equal(
        new AttachmentsConfig({ ...valid, connection: cluster, queuePrefix: prefix }).queuePrefix,
        prefix,
      );
    }
  });

  it('reads an ioredis Cluster instance as a cluster, and a single server as not one', () => {
    // Lazy: built for the check, it never connects.
    const instance = new Cluster([{ host: '127.0.0.1', port: 7000 }], { lazyConnect: true });
    refuses({ connection: instance, queuePrefix: 'myapp' }, /hash tag/);
    const single = new Redis({ lazyConnect: true });
    assert.equal(
      new AttachmentsConfig({ ...valid, connection: single, queuePrefix: 'myapp' }).queuePrefix,
      'myapp',
    );
  });

  it('names where Redis is reached in messages: server, sentinels or cluster nodes', () => {
    const address = (connection: AttachmentsModuleOptions['connection']) =>
      new AttachmentsConfig({ ...valid, connection }).redisAddress;
    assert.equal(address({ host: '10.0.0.5', port: 6380 }), '10.0.0.5:6380');
    assert.equal(
      address({ sentinels: [{ host: '10.0.0.7', port: 26379 }], name: 'main' }),
      '"main" through sentinels 10.0.0.7:26379',
    );
    assert.equal(address(cluster), 'cluster 127.0.0.1:7000');
  });
});

describe('the Redis options the README shows', () => {
  it('are accepted as they are written there', () => {
    const onCluster: Partial<AttachmentsModuleOptions> = {
      connection: {
        cluster: {
          nodes: [
            { host: '10.0.0.1', port: 6379 },
            { host: '10.0.0.2', port: 6379 },
          ],
          options: { redisOptions: { password: process.env.REDIS_PASSWORD } },
        },
      },
      queuePrefix: '{attachments}',
    };
    const throughSentinel: Partial<AttachmentsModuleOptions> = {
      connection: {
        sentinels: [
          { host: '10.0.0.1', port: 26379 },
          { host: '10.0.0.2', port: 26379 },
        ],
        name: 'mymaster',
      },
    };
    assert.equal(new AttachmentsConfig({ ...valid, ...onCluster }).queuePrefix, '{attachments}');
    assert.equal(
      new AttachmentsConfig({ ...valid, ...throughSentinel }).redisAddress,
      '"mymaster" through sentinels 10.0.0.1:26379, 10.0.0.2:26379',
    );
  });
});
