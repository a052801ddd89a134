import '../support/harness.js';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { Entity, PrimaryGeneratedColumn, type Repository } from 'typeorm';
import { Attachment, type UploadedFile } from '../../src/index.js';
import { pdfPreview, videoPoster } from '../../src/derivatives/preview.js';
import {
  referencedFiles,
  storedFiles,
  waitFor,
  waitForIdle,
  type Harness,
} from '../support/harness.js';
import { corruptPdf, pdfDocument } from '../support/pdf.js';
import { useHarness } from '../support/suite.js';
import { makeVideo } from '../support/videos.js';

@Entity()
class Lesson {
  @PrimaryGeneratedColumn()
  id!: number;

  @Attachment({
    allowedTypes: ['application/pdf'],
    derivatives: { preview: pdfPreview({ width: 400 }) },
  })
  handout!: UploadedFile | null;

  @Attachment({
    allowedTypes: ['video/mp4', 'video/webm'],
    derivatives: { poster: videoPoster({ width: 320, format: 'webp' }) },
  })
  recording!: UploadedFile | null;
}

describe('previews made in derivative jobs', () => {
  const suite = useHarness('postgres', [Lesson], {
    jobOptions: { attempts: 2, backoff: { type: 'fixed', delay: 10 }, removeOnComplete: false },
  });
  let harness: Harness;
  let lessons: Repository<Lesson>;
  let fixtures: string;
  before(async () => {
    harness = suite.harness;
    lessons = suite.db.dataSource.getRepository(Lesson);
    fixtures = await mkdtemp(join(tmpdir(), 'preview-jobs-'));
  });
  after(() => rm(fixtures, { recursive: true, force: true }));

  afterEach(async () => {
    await waitForIdle(harness, suite.db.dataSource);
    assert.deepEqual(
      await storedFiles(harness.storages),
      await referencedFiles(suite.db.dataSource, [
        { entity: Lesson, properties: ['handout', 'recording'] },
      ]),
      'every stored file, previews included, is referenced, and no more',
    );
  });

  async function bytes(file: UploadedFile): Promise<Buffer> {
    const stream = await harness.storages[file.storage]!.open(file.id);
    return Buffer.concat((await stream.toArray()) as Buffer[]);
  }

  it('stores a preview of a PDF and a poster of a video beside their originals', async () => {
    const lesson = lessons.create();
    await harness.attachments.attach(lesson, 'handout', pdfDocument(), { filename: 'notes.pdf' });
    const video = await makeVideo(fixtures, { container: 'mp4', width: 640, height: 480 });
    await harness.attachments.attach(lesson, 'recording', video, { filename: 'talk.mp4' });
    await lessons.save(lesson);
    await waitForIdle(harness, suite.db.dataSource, 120_000);

    const { handout, recording } = await lessons.findOneByOrFail({ id: lesson.id });
    const preview = handout!.derivatives!.preview!;
    assert.equal(handout!.storage, 'store');
    assert.equal(preview.id, `${handout!.id.replace(/\.pdf$/, '')}/preview.jpg`);
    const { mimeType, width, height } = preview.metadata;
    assert.deepEqual(
      { mimeType, width, height },
      { mimeType: 'image/jpeg', width: 400, height: 300 },
    );
    const drawn = await sharp(await bytes(preview)).metadata();
    assert.deepEqual([drawn.format, drawn.width, drawn.height], ['jpeg', 400, 300]);

    const poster = recording!.derivatives!.poster!;
    assert.equal(poster.id, `${recording!.id.replace(/\.mp4$/, '')}/poster.webp`);
    const frame = poster.metadata;
    assert.deepEqual(
      { mimeType: frame.mimeType, width: frame.width, height: frame.height },
      { mimeType: 'image/webp', width: 320, height: 240 },
    );
  });

  it('a corrupt PDF is still promoted; its preview fails as work of the record', async () => {
    const broken = corruptPdf();
    const lesson = lessons.create();
    await harness.attachments.attach(lesson, 'handout', broken, { filename: 'broken.pdf' });
    await lessons.save(lesson);
    const failed = await waitFor(async () => {
      const rows = await harness.work.forRecord(lesson);
      return rows.find((row) => row.kind === 'derive' && row.status === 'failed');
    }, 'the preview to fail for good');
    assert.equal(failed.attempts, 2, 'retried, then given up');
    assert.match(failed.lastError ?? '', /Preview could not be made: pdfinfo exited with code/);

    const { handout } = await lessons.findOneByOrFail({ id: lesson.id });
    assert.equal(handout!.storage, 'store', 'the promotion succeeded');
    assert.equal(handout!.metadata.mimeType, 'application/pdf');
    assert.equal(handout!.derivatives?.preview, undefined);
    assert.deepEqual(await bytes(handout!), broken, 'the original stays stored as it was');
    await waitForIdle(harness, suite.db.dataSource);
    const work = (await harness.work.forRecord(lesson)).map((row) => [row.kind, row.status]);
    assert.deepEqual(work, [['derive', 'failed']], 'the promotion is done (its row is gone)');
  });
});
