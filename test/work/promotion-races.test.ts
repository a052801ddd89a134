import '../support/harness.js';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Repository } from 'typeorm';
import { attachmentEntities, FileSystemStorage, type JobStep } from '../../src/index.js';
import { type PromotePayload } from '../../src/core/index.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../support/databases.js';
import { Photo } from '../support/entities.js';
import { png } from '../support/fixtures.js';
import {
  referencedFiles,
  startHarness,
  storedFiles,
  waitForIdle,
  type Harness,
} from '../support/harness.js';
import { PausingStorage } from '../support/pausing-storage.js';

type Moment = 'before copy' | 'during copy' | 'before write';
type Intrusion = 'replaced' | 'deleted';

const STEP_OF: Record<Exclude<Moment, 'during copy'>, JobStep> = {
  'before copy': 'promote:before-copy',
  'before write': 'promote:before-write',
};

for (const kind of DATABASES) {
  describe(`promotion races on ${kind}`, () => {
    let db: TestDatabase;
    let harness: Harness;
    let photos: Repository<Photo>;
    let directory: string;
    let store: PausingStorage;
    /** Runs inside the job at the step it names, once; the job waits for it. */
    let intrusion: { step: JobStep; workOf: number; act: () => Promise<void> } | undefined;

    before(async () => {
      db = await createTestDatabase(kind, [Photo, ...attachmentEntities]);
      directory = await mkdtemp(join(tmpdir(), 'attachments-races-'));
      store = new PausingStorage(new FileSystemStorage({ directory: join(directory, 'store') }));
      harness = await startHarness({
        dataSource: db.dataSource,
        storages: {
          cache: new FileSystemStorage({ directory: join(directory, 'cache') }),
          store,
        },
        jobHooks: {
          onStep: async (step, data) => {
            const current = intrusion;
            const payload = data as unknown as PromotePayload;
            if (current?.step === step && payload.recordId?.id === current.workOf) {
              intrusion = undefined;
              await current.act();
            }
          },
        },
      });
      photos = db.dataSource.getRepository(Photo);
    });

    after(async () => {
      await harness?.close();
      await db?.close();
      await rm(directory, { recursive: true, force: true });
    });

    afterEach(async () => {
      await waitForIdle(harness, db.dataSource);
      assert.equal(intrusion, undefined, 'the intrusion ran');
      assert.deepEqual(
        await storedFiles(harness.storages),
        await referencedFiles(db.dataSource, [{ entity: Photo, properties: ['image'] }]),
        'no orphan file in any storage, no missing file',
      );
    });

    async function photoWith(width: number): Promise<Photo> {
      const photo = photos.create({ title: `w${width}` });
      const { token } = await harness.attachments.cache(png(width, 2), { filename: 'a.png' });
      await harness.attachments.attach(photo, 'image', token);
      return photo;
    }

    async function replaceImage(id: number, width: number): Promise<void> {
      const loaded = await photos.findOneByOrFail({ id });
      const { token } = await harness.attachments.cache(png(width, 2), { filename: 'b.png' });
      await harness.attachments.attach(loaded, 'image', token);
      await photos.save(loaded);
    }

    for (const intrusionKind of ['replaced', 'deleted'] as Intrusion[]) {
      for (const moment of ['before copy', 'during copy', 'before write'] as Moment[]) {
        it(`record ${intrusionKind} ${moment}: latest file stored, nothing orphaned`, async () => {
          const photo = photos.create({ title: 'race' });
          await photos.save(photo);
          const { token } = await harness.attachments.cache(png(11, 2), { filename: 'a.png' });
          await harness.attachments.attach(photo, 'image', token);
          const act = async () => {
            if (intrusionKind === 'replaced') await replaceImage(photo.id, 22);
            else await photos.remove(await photos.findOneByOrFail({ id: photo.id }));
          };
          if (moment === 'during copy') {
            store.pauseNextCopy(act);
          } else {
            intrusion = { step: STEP_OF[moment], workOf: photo.id, act };
          }
          await photos.save(photo);
          await waitForIdle(harness, db.dataSource);

          const saved = await photos.findOneBy({ id: photo.id });
          if (intrusionKind === 'replaced') {
            assert.equal(saved?.image?.storage, 'store');
            assert.equal(saved?.image?.metadata.width, 22, 'the replacement won');
          } else {
            assert.equal(saved, null);
          }
        });
      }
    }

    it('two consecutive updates: the last file is stored, the others deleted', async () => {
      const photo = await photoWith(3);
      await photos.save(photo);
      await replaceImage(photo.id, 4);
      await replaceImage(photo.id, 5);
      await waitForIdle(harness, db.dataSource);
      const saved = await photos.findOneByOrFail({ id: photo.id });
      assert.equal(saved.image?.storage, 'store');
      assert.equal(saved.image?.metadata.width, 5);
    });

    it('saving a stale entity object does not undo a finished promotion', async () => {
      const photo = await photoWith(6);
      await photos.save(photo);
      const stale = await photos.findOneByOrFail({ id: photo.id });
      assert.equal(stale.image?.storage, 'cache');
      await waitForIdle(harness, db.dataSource);
      stale.title = 'renamed';
      await photos.save(stale);
      await waitForIdle(harness, db.dataSource);
      const saved = await photos.findOneByOrFail({ id: photo.id });
      assert.equal(saved.title, 'renamed');
      assert.equal(saved.image?.storage, 'store', 'still the promoted file');
    });
  });
}
