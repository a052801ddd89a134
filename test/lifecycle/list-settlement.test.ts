import '../support/harness.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Attachments, AttachmentWork, type UploadedFile } from '../../src/index.js';
import { SERVER_DATABASES } from '../support/databases.js';
import { png } from '../support/fixtures.js';
import { useHarness } from '../support/suite.js';

@Entity()
class Gallery {
  @PrimaryGeneratedColumn()
  id!: number;

  @Attachments({ allowedTypes: ['image/*'] })
  photos!: UploadedFile[] | null;
}

/**
 * A save that removes the last file of a list still waiting reports the list settled, judged on
 * what is committed when it takes the row lock, not on what its transaction saw at its first
 * read (MySQL's REPEATABLE READ snapshot).
 */
for (const kind of SERVER_DATABASES) {
  describe(`list settlement in a save's transaction, on ${kind}`, () => {
    const suite = useHarness(kind, [Gallery], { worker: false });

    it('sees a promotion that failed for good after the transaction first read', async () => {
      const { db, harness } = suite;
      const galleries = db.dataSource.getRepository(Gallery);
      const work = db.dataSource.getRepository(AttachmentWork);
      const gallery = galleries.create({ photos: [] });
      await harness.attachments.attachMany(gallery, 'photos', [png(2, 2), png(3, 3)]);
      await galleries.save(gallery);
      const [kept, removed] = gallery.photos!;
      const promotions = await work.findBy({ kind: 'promote' });
      const keptPromotion = promotions.find((row) => row.cachedFileId === kept!.id)!;

      await db.dataSource.transaction(async (manager) => {
        const loaded = await manager.findOneByOrFail(Gallery, { id: gallery.id });
        // Committed by another connection after this transaction's first read, as a worker's
        // final failure would: the kept file's promotion waits no more.
        await work.update({ id: keptPromotion.id }, { status: 'failed', failedAt: Date.now() });
        harness.attachments.detach(loaded, 'photos', [removed!.id]);
        await manager.save(loaded);
      });

      const notices = (await work.findBy({ kind: 'notify' })).filter(
        (row) => row.payload.kind === 'notify' && row.payload.event.type === 'listPromoted',
      );
      assert.equal(notices.length, 1, 'the save that settled the list records listPromoted');
    });
  });
}
