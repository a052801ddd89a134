import assert from 'node:assert/strict';
import type { DataSource } from 'typeorm';
import { AttachmentWork, type UploadedFile } from '../../src/index.js';
import { Binder } from './derivative-entities.js';
import { referencedFiles, storedFiles, waitForIdle, type Harness } from './harness.js';

type JobData = Readonly<Record<string, unknown>>;

/** A new binder holding `texts` as cached pages, not saved yet. */
export async function binderWith(harness: Harness, dataSource: DataSource, texts: string[]) {
  const binder = dataSource.getRepository(Binder).create({ pages: [] });
  const bodies = texts.map((text) => Buffer.from(text));
  await harness.attachments.attachMany(binder, 'pages', bodies);
  return binder;
}

/** Matches the derivative jobs of the list element promoted from cached file `cachedId`. */
export const derivingFrom = (cachedId: string) => (data: JobData) =>
  (data.original as UploadedFile | undefined)?.source === cachedId;

/**
 * Once the work is done: the storages hold exactly the files the binders' lists name,
 * derivatives included (nothing orphaned, nothing missing), and no work failed.
 */
export async function assertBindersMatchStorages(harness: Harness, dataSource: DataSource) {
  await waitForIdle(harness, dataSource);
  assert.deepEqual(
    await storedFiles(harness.storages),
    await referencedFiles(dataSource, [{ entity: Binder, properties: ['pages'] }]),
    'the storages hold exactly the files the lists name, derivatives included',
  );
  const failed = await dataSource.getRepository(AttachmentWork).countBy({ status: 'failed' });
  assert.equal(failed, 0, 'no work failed');
}
