/**
 * An upload server in a process of its own, so a test can cap its heap (`--max-old-space-size`)
 * and read its peak memory. SQLite and filesystem storages under FILES_DIR; prints
 * `LISTENING <url>` when ready, and answers an IPC `report` message with its peak RSS.
 */
import 'reflect-metadata';
import { attachmentEntities } from '../../src/index.js';
import { createTestDatabase } from './databases.js';
import { Photo } from './entities.js';
import { startHarness } from './harness.js';
import { peakRssBytes } from './peak-rss.js';

const directory = process.env.FILES_DIR;
if (!directory) throw new Error('upload-server-process: FILES_DIR is not set');

const db = await createTestDatabase('sqlite', [Photo, ...attachmentEntities]);
const harness = await startHarness({
  dataSource: db.dataSource,
  directory,
  http: true,
  worker: false,
  upload: { maxSize: 8 * 1024 * 1024 * 1024 },
});
process.on('message', (message) => {
  if (message !== 'report') return;
  const { heapUsed } = process.memoryUsage();
  process.send?.({ maxRssBytes: peakRssBytes(), heapUsed });
});
process.on('SIGTERM', () => {
  void harness.close().finally(() => db.close().finally(() => process.exit(0)));
});
process.stdout.write(`LISTENING ${harness.baseUrl}\n`);
