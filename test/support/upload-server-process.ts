/**
 * An upload server in a process of its own, so a test can cap its heap (`--max-old-space-size`)
 * and read its peak memory. SQLite and filesystem storages under FILES_DIR; prints
 * `LISTENING <url>` when ready (on the adapter HTTP_PLATFORM names, Express by default), and answers an IPC `report` message with its peak RSS.
 */
import 'reflect-metadata';
import { peakRssBytes } from './peak-rss.js';
import { platformFromEnvironment } from './platforms.js';
import { startUploadServer } from './upload-server.js';

const directory = process.env.FILES_DIR;
if (!directory) throw new Error('upload-server-process: FILES_DIR is not set');

const server = await startUploadServer(directory, platformFromEnvironment());
process.on('message', (message) => {
  if (message !== 'report') return;
  const { heapUsed } = process.memoryUsage();
  process.send?.({ maxRssBytes: peakRssBytes(), heapUsed });
});
process.on('SIGTERM', () => {
  void server.close().finally(() => process.exit(0));
});
process.stdout.write(`LISTENING ${server.url}\n`);
