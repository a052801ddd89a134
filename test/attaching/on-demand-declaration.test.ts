import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import {
  Attachment,
  AttachmentConfigurationError,
  MemoryStorage,
  type AttachmentsModuleOptions,
  type UploadedFile,
} from '../../src/index.js';
import { AttachmentsConfig } from '../../src/config/index.js';
import { resizeImage } from '../../src/derivatives/image.js';

const options: AttachmentsModuleOptions = {
  dataSource: { options: { type: 'postgres' } } as unknown as DataSource,
  storages: { cache: new MemoryStorage(), store: new MemoryStorage() },
  connection: { host: '127.0.0.1', port: 6379 },
  secret: 'a'.repeat(32),
};

describe('declaring on-demand derivatives', () => {
  it('refuses a derivative both made during promotion and on demand', () => {
    assert.throws(
      () => {
        class Both {
          @Attachment({
            derivatives: {
              thumb: {
                processor: resizeImage({ width: 10 }),
                duringPromotion: true,
                onDemand: true,
              },
            },
          })
          image!: UploadedFile | null;
        }
        return Both;
      },
      (error: Error) =>
        error instanceof AttachmentConfigurationError &&
        /Both\.image: derivative "thumb" cannot be both/.test(error.message),
    );
  });

  it('applies the defaults of the endpoint, and refuses bounds that cannot work', () => {
    assert.deepEqual(new AttachmentsConfig(options).onDemand, {
      concurrency: 2,
      queueLimit: 20,
      timeout: 30_000,
      response: 'serve',
    });
    const refusals: [Record<string, unknown>, RegExp][] = [
      [{ concurrency: 0 }, /onDemand\.concurrency/],
      [{ concurrency: 1.5 }, /onDemand\.concurrency/],
      [{ queueLimit: -1 }, /onDemand\.queueLimit/],
      [{ timeout: 0 }, /onDemand\.timeout/],
      [{ timeout: Infinity }, /onDemand\.timeout/],
      [{ response: 'stream' }, /onDemand\.response/],
    ];
    for (const [onDemand, message] of refusals) {
      assert.throws(
        () => new AttachmentsConfig({ ...options, derivatives: { onDemand } }),
        (error: Error) =>
          error instanceof AttachmentConfigurationError && message.test(error.message),
        JSON.stringify(onDemand),
      );
    }
  });
});
