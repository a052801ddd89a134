/**
 * One upload server of the upload-throughput scenario, in a process of its own so its peak RSS
 * is its own. UPLOAD_SERVER picks which (`ours`, `bare`, `multer`); files land under FILES_DIR.
 * All three answer `POST /attachments/upload` with 201, print `LISTENING <url>` when ready, and
 * answer an IPC `report` message with their peak RSS.
 */
import { peakRssBytes } from '../../test/support/peak-rss.js';
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

export type UploadServerKind = 'ours' | 'bare' | 'multer';

const kind = process.env.UPLOAD_SERVER as UploadServerKind | undefined;
const directory = process.env.FILES_DIR;
if (!directory || !kind) throw new Error('server-process: UPLOAD_SERVER and FILES_DIR are needed');

/** The practical limit: bytes from the socket to a file, no parsing at all. */
const bare: RequestListener = (request, response) => {
  pipeline(request, createWriteStream(join(directory, randomUUID()))).then(
    () => response.writeHead(201).end(),
    (error: Error) => response.writeHead(500).end(error.message),
  );
};

/** What many Nest apps do today: Multer's memory storage, then the buffer to disk. */
async function multerApp(): Promise<RequestListener> {
  const { default: express } = await import('express');
  const { default: multer } = await import('multer');
  const app = express();
  const upload = multer({ storage: multer.memoryStorage() }).single('file');
  app.post('/attachments/upload', upload, async (request, response) => {
    const file = request.file;
    if (!file) return void response.status(400).end();
    await writeFile(join(directory!, randomUUID()), file.buffer);
    response.status(201).json({ size: file.size });
  });
  return app;
}

async function listen(listener: RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: async () => void server.closeAllConnections() };
}

async function start(): Promise<{ url: string; close(): Promise<void> }> {
  if (kind === 'bare') return listen(bare);
  if (kind === 'multer') return listen(await multerApp());
  // The library's endpoint as an app would run it, with no worker: only the upload is measured.
  // Loaded here, not at the top, so the other servers' RSS does not include Nest and TypeORM.
  await import('reflect-metadata');
  const { startUploadServer } = await import('../../test/support/upload-server.js');
  return startUploadServer(directory!);
}

const server = await start();
process.on('message', (message) => {
  // The process's own peak (VmHWM): maxRSS would carry over the bench process's peak.
  if (message === 'report') process.send?.({ maxRssBytes: peakRssBytes() });
});
const stop = () => void server.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
// Should the bench process die without stopping us, do not linger holding a port.
process.on('disconnect', stop);
process.stdout.write(`LISTENING ${server.url}\n`);
