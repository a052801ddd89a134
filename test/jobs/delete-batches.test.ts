import '../support/harness.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { S3Storage } from '../../src/index.js';
import { WorkOutbox } from '../../src/jobs/work-outbox.service.js';
import { Photo } from '../support/entities.js';
import { listFiles, waitForIdle } from '../support/harness.js';
import {
  recordCommands,
  startS3rver,
  type CommandLog,
  type TestS3Server,
} from '../support/s3rver.js';
import { useHarness } from '../support/suite.js';

describe('a delete job on S3', () => {
  let s3: TestS3Server;
  let log: CommandLog;
  const storages: Record<string, S3Storage> = {};
  before(async () => {
    s3 = await startS3rver();
    const client = s3.client();
    log = recordCommands(client);
    storages.cache = new S3Storage({ client, bucket: s3.bucket, prefix: 'cache/' });
    storages.store = new S3Storage({ client, bucket: s3.bucket, prefix: 'store/' });
  });
  after(async () => s3?.stop());
  const suite = useHarness('postgres', [Photo], { storages });

  it('deletes 2,500 files in DeleteObjects batches of at most 1,000 keys', async () => {
    const ids = Array.from({ length: 2500 }, (_, n) => `photo/1/image/${n}.png`);
    for (let n = 0; n < ids.length; n += 100) {
      await Promise.all(
        ids.slice(n, n + 100).map((id) => storages.store!.upload(id, Buffer.from(id))),
      );
    }
    const outbox = suite.harness.app.get(WorkOutbox, { strict: false });
    const work = outbox.create(
      { kind: 'delete', reason: 'removed', files: ids.map((id) => ({ storage: 'store', id })) },
      { entity: 'Photo', recordId: { id: 1 } },
    );
    await outbox.record(suite.db.dataSource.manager, [work]);
    log.clear();
    assert.equal(await outbox.send([work]), true);
    await waitForIdle(suite.harness, suite.db.dataSource);

    const batches = log.inputs
      .filter((_, index) => log.names[index] === 'DeleteObjectsCommand')
      .map((input) => (input as { Delete: { Objects: unknown[] } }).Delete.Objects.length);
    assert.deepEqual(batches, [1000, 1000, 500]);
    assert.deepEqual(await listFiles(storages.store!), []);
  });
});
