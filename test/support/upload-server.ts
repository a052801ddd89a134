import { attachmentEntities } from '../../src/index.js';
import { createTestDatabase } from './databases.js';
import { Photo } from './entities.js';
import { startHarness } from './harness.js';
import type { HttpPlatform } from './platforms.js';

/**
 * The upload endpoint as an app runs it, for measuring uploads alone: SQLite, filesystem
 * storages under `directory`, no worker, and a limit far above any measured file. It accepts
 * uploads that name no attachment (of any type), as the files it measures are for none.
 */
export async function startUploadServer(directory: string, platform: HttpPlatform = 'express') {
  const db = await createTestDatabase('sqlite', [Photo, ...attachmentEntities]);
  const harness = await startHarness({
    dataSource: db.dataSource,
    directory,
    http: true,
    platform,
    worker: false,
    upload: { maxSize: 8 * 1024 * 1024 * 1024, unnamed: { allowedTypes: ['*/*'] } },
  });
  return { url: harness.baseUrl, close: () => harness.close().finally(() => db.close()) };
}
