import '../support/harness.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Module } from '@nestjs/common';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { FastifyAdapter } from '@bull-board/fastify';
import { BullBoardModule } from '@bull-board/nestjs';
import { ATTACHMENTS_QUEUE } from '../../src/index.js';
import { Photo } from '../support/entities.js';
import { png } from '../support/fixtures.js';
import { PLATFORMS } from '../support/platforms.js';
import { waitFor, waitForIdle } from '../support/harness.js';
import { useHarness } from '../support/suite.js';
import { within } from '../support/within.js';

@Module({
  imports: [
    BullBoardModule.forRoot({ route: '/queues', adapter: ExpressAdapter }),
    BullBoardModule.forFeature({ name: ATTACHMENTS_QUEUE, adapter: BullMQAdapter }),
  ],
})
class QueueBoardModule {}

/** The same board on Fastify: only the server adapter differs. */
@Module({
  imports: [
    BullBoardModule.forRoot({ route: '/queues', adapter: FastifyAdapter }),
    BullBoardModule.forFeature({ name: ATTACHMENTS_QUEUE, adapter: BullMQAdapter }),
  ],
})
class FastifyQueueBoardModule {}

const boards = { express: QueueBoardModule, fastify: FastifyQueueBoardModule };

/** One queue as the board's JSON API lists it. */
interface BoardQueue {
  name: string;
  counts: Record<string, number>;
  jobs: { id: string; name: string; data: Record<string, unknown> }[];
}

async function boardQueues(
  baseUrl: string,
  activeQueue: string,
  status?: string,
): Promise<BoardQueue[]> {
  const query = new URLSearchParams({ activeQueue, ...(status ? { status } : {}) });
  const url = `${baseUrl}/queues/api/queues?${query}`;
  const response = await within(30_000, fetch(url), 'GET /queues/api/queues');
  assert.equal(response.status, 200);
  return ((await response.json()) as { queues: BoardQueue[] }).queues;
}

for (const platform of PLATFORMS) {
  describe(`Bull Board beside the attachments module, on ${platform}`, () => {
    // No worker: the promotion stays waiting, where the board shows it.
    const suite = useHarness('sqlite', [Photo], {
      http: true,
      platform,
      worker: false,
      imports: [boards[platform]],
    });

    it("lists the module's queue, under its key prefix, with a waiting promotion and its data", async () => {
      // A board reading BullMQ's default prefix would find no job: the suite's prefix is its own.
      assert.notEqual(suite.harness.queue.opts.prefix, 'bull');
      const photos = suite.db.dataSource.getRepository(Photo);
      const photo = photos.create({ title: 'on the board' });
      await suite.harness.attachments.attach(photo, 'image', png(4, 4), { filename: 'b.png' });
      await photos.save(photo);

      const queues = await boardQueues(suite.harness.baseUrl, ATTACHMENTS_QUEUE);
      assert.deepEqual(
        queues.map((queue) => queue.name),
        [ATTACHMENTS_QUEUE],
      );
      const [queue] = queues;
      assert.equal(queue!.counts.waiting, 1);
      assert.equal(queue!.jobs.length, 1);
      const [job] = queue!.jobs;
      assert.equal(job!.name, 'promote');
      assert.equal(job!.data.kind, 'promote');
      assert.equal(job!.data.entity, 'Photo');
      assert.equal(job!.data.attachment, 'image');
      assert.deepEqual(job!.data.recordId, { id: photo.id });
      assert.equal((job!.data.file as { storage: string }).storage, 'cache');
    });

    it('serves its page at the route', async () => {
      const response = await within(
        30_000,
        fetch(`${suite.harness.baseUrl}/queues`),
        'GET /queues',
      );
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /text\/html/);
      assert.match(await response.text(), /<html/i);
    });
  });
}

describe('Bull Board and work that failed for good', () => {
  let storeIsDown = true;
  const suite = useHarness('sqlite', [Photo], {
    http: true,
    imports: [QueueBoardModule],
    jobOptions: { attempts: 1, removeOnComplete: false },
    jobHooks: {
      onStep: (step) => {
        if (step === 'promote:before-copy' && storeIsDown) {
          throw new Error('store unreachable (injected)');
        }
      },
    },
  });

  it("a retry from the board runs the job, which ends at once: the outbox row stays failed until AttachmentWorkService's retry", async () => {
    const { harness, db } = suite;
    const photos = db.dataSource.getRepository(Photo);
    const photo = photos.create({ title: 'retried' });
    await harness.attachments.attach(photo, 'image', png(4, 4), { filename: 'r.png' });
    await photos.save(photo);
    const [failed] = await waitFor(async () => {
      const rows = await harness.work.forRecord(photo);
      return rows[0]?.status === 'failed' && rows;
    }, 'the promotion to fail for good');
    const [onBoard] = await boardQueues(harness.baseUrl, ATTACHMENTS_QUEUE, 'failed');
    const job = onBoard!.jobs.find((listed) => listed.data.workId === failed!.id);
    assert.ok(job, 'the board lists the failed job');

    storeIsDown = false;
    const path = `/queues/api/queues/${ATTACHMENTS_QUEUE}/${encodeURIComponent(job.id)}/retry`;
    const retried = await within(
      30_000,
      fetch(`${harness.baseUrl}${path}`, { method: 'PUT' }),
      'PUT retry',
    );
    assert.equal(retried.status, 204);
    await waitFor(
      async () => (await harness.queue.getJobState(job.id)) === 'completed',
      'the retried job to complete',
    );
    // Read once completed: a job read before its end would show no return value.
    assert.equal((await harness.queue.getJob(job.id))?.returnvalue, 'skipped');
    assert.equal((await harness.work.forRecord(photo))[0]?.status, 'failed');
    assert.equal((await photos.findOneByOrFail({ id: photo.id })).image?.storage, 'cache');

    assert.equal(await harness.work.retry(failed!.id), true);
    await waitForIdle(harness, db.dataSource);
    assert.equal((await photos.findOneByOrFail({ id: photo.id })).image?.storage, 'store');
  });
});
