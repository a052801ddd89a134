import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import {
  AttachmentConfigurationError,
  AttachmentsConfig,
  MemoryStorage,
  type AttachmentsModuleOptions,
} from '../src/index.js';

const dataSourceOf = (type: string) => ({ options: { type } }) as unknown as DataSource;

const valid: AttachmentsModuleOptions = {
  dataSource: dataSourceOf('postgres'),
  storages: { cache: new MemoryStorage(), store: new MemoryStorage() },
  connection: { host: '127.0.0.1', port: 6379 },
  secret: 'a'.repeat(32),
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
    assert.equal(new AttachmentsConfig({ ...valid, worker: false }).worker, null);
  });

  it('refuse what cannot work, saying why', () => {
    refuses({ secret: 'short' }, /`secret` must be a string of at least 32 characters/);
    refuses({ storages: { cache: new MemoryStorage() } }, /no storage named "store"/);
    refuses({ storeStorage: 'cache' }, /cache and store storages must be different/);
    refuses({ tokenTtl: 10_000, cacheTtl: 10_000 }, /`cacheTtl` must be longer than `tokenTtl`/);
    refuses({ dataSource: dataSourceOf('mysql') }, /database type "mysql" is not supported/);
    refuses({ dataSource: undefined as unknown as DataSource }, /`dataSource` is required/);
  });

  it('name the configured storages when an unknown one is asked for', () => {
    assert.throws(
      () => new AttachmentsConfig(valid).storage('s3'),
      /Unknown storage "s3"; configured: cache, store/,
    );
  });
});
