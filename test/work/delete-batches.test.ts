import '../support/harness.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkOutbox } from '../../src/outbox/work-outbox.service.js';
import { Photo } from '../support/entities.js';
import { listFiles, waitForIdle } from '../support/harness.js';
import { useS3Storages } from '../support/s3rver.js';
import { useHarness } from '../support/suite.js';

describe('a delete job on S3', () => {
  const s3 = useS3Storages();
  const { storages } = s3;
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
    s3.log.clear();
    assert.equal(await outbox.send([work]), true);
    await waitForIdle(suite.harness, suite.db.dataSource);

    const batches = s3.log.inputs
      .filter((_, index) => s3.log.names[index] === 'DeleteObjectsCommand')
      .map((input) => (input as { Delete: { Objects: unknown[] } }).Delete.Objects.length);
    assert.deepEqual(batches, [1000, 1000, 500]);
    assert.deepEqual(await listFiles(storages.store!), []);
  });
});
