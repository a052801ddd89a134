/**
 * Boots the module in a process of its own, where `@tus/server` and `@tus/file-store` cannot be
 * found (a resolve hook answers as Node does for a package that is not installed), with
 * `upload.tus` on when `TUS=on`. Prints one JSON line: the status of `POST /attachments/tus` and
 * of an ordinary upload once booted, or the error the boot failed with.
 */
import 'reflect-metadata';
import { attachmentEntities } from '../../src/index.js';
import { printOutcome } from './child-outcome.js';
import { createTestDatabase } from './databases.js';
import { Photo } from './entities.js';
import { png } from './fixtures.js';
import { startHarness } from './harness.js';
import { hidePackages } from './hidden-packages.js';
import { multipart } from './http-client.js';

hidePackages(['@tus/server', '@tus/file-store']);

const db = await createTestDatabase('sqlite', [Photo, ...attachmentEntities]);
await printOutcome(db, async () => {
  const harness = await startHarness({
    dataSource: db.dataSource,
    http: true,
    worker: false,
    upload: { tus: process.env.TUS === 'on' },
  });
  try {
    const tus = await fetch(`${harness.baseUrl}/attachments/tus`, {
      method: 'POST',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '10' },
    });
    const { body, contentType } = multipart([{ name: 'file', filename: 'a.png', data: png(4, 4) }]);
    const upload = await fetch(
      `${harness.baseUrl}/attachments/upload?entity=Photo&attachment=image`,
      {
        method: 'POST',
        headers: { 'content-type': contentType },
        body,
      },
    );
    return { tus: tus.status, tusBody: await tus.json(), upload: upload.status };
  } finally {
    await harness.close();
  }
});
