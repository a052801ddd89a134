import '../support/harness.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Attachment, type UploadedFile } from '../../src/index.js';
import { upperCase } from '../support/derivative-entities.js';
import { referencedFiles, storedFiles, waitForIdle } from '../support/harness.js';
import { useHarness } from '../support/suite.js';

@Entity()
class Resume {
  @PrimaryGeneratedColumn()
  id!: number;

  @Attachment({ location: 'filename', derivatives: { upper: upperCase } })
  document!: UploadedFile | null;
}

describe("the 'filename' location", () => {
  const suite = useHarness('postgres', [Resume]);

  it('keeps the original filename in the stored key, derivatives beside it, and cleans up on replace', async () => {
    const { harness, db } = suite;
    const resumes = db.dataSource.getRepository(Resume);
    const resume = resumes.create();
    await harness.attachments.attach(resume, 'document', Buffer.from('hire me'), {
      filename: 'Mon CV.txt',
    });
    await resumes.save(resume);
    await waitForIdle(harness, db.dataSource);
    const { document } = await resumes.findOneByOrFail({ id: resume.id });
    assert.match(
      document!.id,
      new RegExp(`^resume/${resume.id}/document/[0-9a-f-]{36}/Mon CV\\.txt$`),
    );
    assert.equal(document!.derivatives!.upper!.id, document!.id.replace(/\.txt$/, '/upper.txt'));

    const loaded = await resumes.findOneByOrFail({ id: resume.id });
    await harness.attachments.attach(loaded, 'document', Buffer.from('second'), {
      filename: 'CV v2.txt',
    });
    await resumes.save(loaded);
    await waitForIdle(harness, db.dataSource);
    assert.deepEqual(
      await storedFiles(harness.storages),
      await referencedFiles(db.dataSource, [{ entity: Resume, properties: ['document'] }]),
    );
  });
});
