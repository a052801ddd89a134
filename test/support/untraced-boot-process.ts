/**
 * Runs the module in a process started with untraced-hooks preloaded, where
 * `@opentelemetry/api` and `bullmq-otel` cannot be found: boots it, saves a record with an
 * attachment and waits for the promotion. Prints one JSON line: whether the file was promoted,
 * and the CommonJS modules of OpenTelemetry loaded meanwhile.
 */
import 'reflect-metadata';
import { createRequire } from 'node:module';
import { attachmentEntities } from '../../src/index.js';
import { createTestDatabase } from './databases.js';
import { Photo } from './entities.js';
import { png } from './fixtures.js';
import { printOutcome } from './child-outcome.js';
import { startHarness, waitFor } from './harness.js';

const db = await createTestDatabase('sqlite', [Photo, ...attachmentEntities]);
await printOutcome(db, async () => {
  const harness = await startHarness({ dataSource: db.dataSource });
  try {
    const photos = db.dataSource.getRepository(Photo);
    const photo = photos.create({ title: 'untraced' });
    await harness.attachments.attach(photo, 'image', png(4, 4), { filename: 'u.png' });
    await photos.save(photo);
    const promoted = await waitFor(
      async () => (await photos.findOneByOrFail({ id: photo.id })).image?.storage === 'store',
      'the promotion',
    );
    const required = Object.keys(createRequire(import.meta.url).cache).filter((path) =>
      /[/\\](@opentelemetry|bullmq-otel)[/\\]/.test(path),
    );
    return { promoted, required };
  } finally {
    await harness.close();
  }
});
