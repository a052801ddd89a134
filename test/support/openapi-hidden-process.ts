/**
 * Boots the module in a process of its own where `@nestjs/swagger` cannot be found, neither by
 * `import` nor by `require`, as in an app that does not have it. Prints one JSON line: the
 * status of an upload once booted, what the library asked for, and which of its modules loaded.
 */
import 'reflect-metadata';
import { createRequire } from 'node:module';
import { attachmentEntities } from '../../src/index.js';
import { createTestDatabase } from './databases.js';
import { Photo } from './entities.js';
import { png } from './fixtures.js';
import { startHarness } from './harness.js';
import { hidePackages, hidePackagesFromRequire } from './hidden-packages.js';
import { multipart } from './http-client.js';

hidePackages(['@nestjs/swagger']);
const asked = hidePackagesFromRequire(['@nestjs/swagger']);

/** An upload through the booted app, and what of `@nestjs/swagger` was asked for and loaded. */
async function uploadAndLook(baseUrl: string): Promise<Record<string, unknown>> {
  const { body, contentType } = multipart([{ name: 'file', filename: 'a.png', data: png(4, 4) }]);
  const upload = await fetch(`${baseUrl}/attachments/upload?entity=Photo&attachment=image`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
  });
  const answer = (await upload.json()) as Record<string, unknown>;
  const loaded = Object.keys(createRequire(import.meta.url).cache).filter((path) =>
    path.includes('/@nestjs/swagger/'),
  );
  return { upload: upload.status, token: typeof answer.token, asked, loaded };
}

// A boot that fails ends this process with its error, which the test shows.
const db = await createTestDatabase('sqlite', [Photo, ...attachmentEntities]);
const harness = await startHarness({ dataSource: db.dataSource, http: true, worker: false });
const outcome = await uploadAndLook(harness.baseUrl).finally(async () => {
  await harness.close();
  await db.close();
});
process.stdout.write(`${JSON.stringify(outcome)}\n`, () => process.exit(0));
