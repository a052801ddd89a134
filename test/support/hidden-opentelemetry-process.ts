/**
 * Boots the module on SQLite in a process of its own, where `@opentelemetry/api` cannot be
 * found (by import or require), uploads a file over HTTP, saves it and lets it be promoted.
 * Prints one JSON line: what it saw, or the error it failed with.
 */
import 'reflect-metadata';
import { createRequire } from 'node:module';
import { attachmentEntities } from '../../src/index.js';
import { AttachmentMetrics } from '../../src/telemetry/index.js';
import { printOutcome } from './child-outcome.js';
import { createTestDatabase } from './databases.js';
import { Photo } from './entities.js';
import { png } from './fixtures.js';
import { startHarness, waitForIdle } from './harness.js';
import { hidePackages, hidePackagesFromRequire } from './hidden-packages.js';
import { multipart } from './http-client.js';

hidePackages(['@opentelemetry/api']);
const asked = hidePackagesFromRequire(['@opentelemetry/api']);

const db = await createTestDatabase('sqlite', [Photo, ...attachmentEntities]);
await printOutcome(db, async () => {
  const harness = await startHarness({ dataSource: db.dataSource, http: true });
  try {
    const { body, contentType } = multipart([{ name: 'file', filename: 'a.png', data: png(4, 4) }]);
    const upload = await fetch(
      `${harness.baseUrl}/attachments/upload?entity=Photo&attachment=image`,
      { method: 'POST', headers: { 'content-type': contentType }, body },
    );
    const { token } = (await upload.json()) as { token: string };
    const photos = db.dataSource.getRepository(Photo);
    const photo = photos.create({ title: 'unmeasured' });
    await harness.attachments.attach(photo, 'image', token);
    await photos.save(photo);
    await waitForIdle(harness, db.dataSource);
    return {
      upload: upload.status,
      storage: (await photos.findOneByOrFail({ id: photo.id })).image?.storage,
      metrics: harness.app.get(AttachmentMetrics, { strict: false }).enabled,
      // Where @opentelemetry/api keeps its global providers, once anything loads it.
      askedByRequire: asked,
      requiredModules: Object.keys(createRequire(import.meta.url).cache).filter((path) =>
        path.includes('/@opentelemetry/'),
      ),
      otelGlobal: Object.getOwnPropertySymbols(globalThis).some((symbol) =>
        String(symbol.description).startsWith('opentelemetry.js.api'),
      ),
    };
  } finally {
    await harness.close();
  }
});
