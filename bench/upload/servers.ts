/** The bench side of the upload servers: start and stop them, upload to them, clean up. */
import { fork, type ChildProcess } from 'node:child_process';
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MB, timed } from '../lib/stats.js';
import { png } from '../../test/support/fixtures.js';
import { multipartHead, rawRequest } from '../../test/support/http-client.js';
import type { UploadServerKind } from './server-process.js';

const script = fileURLToPath(new URL('./server-process.js', import.meta.url));
const STARTUP_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

export interface UploadServer {
  kind: UploadServerKind;
  url: string;
  directory: string;
  /** Peak resident memory of the server process so far, in MB. */
  peakRssMB(): Promise<number>;
  /** SIGTERM, then SIGKILL when it has not exited in time. */
  stop(): Promise<void>;
}

export async function startUploadServer(
  kind: UploadServerKind,
  directory: string,
): Promise<UploadServer> {
  const child = fork(script, [], {
    env: { ...process.env, UPLOAD_SERVER: kind, FILES_DIR: directory },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  let stopping = false;
  const stop = () => {
    stopping = true;
    return stopChild(child);
  };
  // Uploads to a dead server fail with a bare ECONNREFUSED: say which one died, and how (a
  // SIGKILL is likely the OOM killer, e.g. Multer holding a large file).
  child.once('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`${kind} upload server exited (${signal ?? code})\n`);
  });
  let url: string;
  try {
    url = await new Promise<string>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(
        () => reject(new Error(`${kind} server: no start`)),
        STARTUP_TIMEOUT_MS,
      );
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /LISTENING (\S+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
      child.once('exit', (code) => reject(new Error(`${kind} server exited (${code})`)));
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    kind,
    url,
    directory,
    stop,
    peakRssMB: () =>
      new Promise((resolve, reject) => {
        child.once('message', (message) => {
          resolve((message as { maxRssBytes: number }).maxRssBytes / MB);
        });
        // A server that died has no channel left: fail the run rather than wait for ever.
        child.send('report', (error) => error && reject(error));
      }),
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

const CHUNK = MB;
/** The same bytes over and over: generating content would cost the client time it reports. */
const filler = Buffer.alloc(CHUNK, 'attachments bench ');
/** A real 16x16 PNG first, so the library's type probe sees an image and reads its size. */
const firstChunk = (() => {
  const image = png(16, 16);
  return Buffer.concat([image, filler.subarray(image.length)]);
})();

/**
 * Streams a `size`-byte file as multipart with chunked encoding, never holding it whole;
 * resolves with the wall time in ms from the first byte sent to the end of the answer.
 */
export function uploadOnce(server: UploadServer, size: number): Promise<number> {
  const { head, tail, contentType } = multipartHead('bench.png');
  async function* body() {
    yield head;
    for (let sent = 0; sent < size; sent += CHUNK) {
      const chunk = sent === 0 ? firstChunk : filler;
      yield size - sent < CHUNK ? chunk.subarray(0, size - sent) : chunk;
    }
    yield tail;
  }
  return timed(async () => {
    const answer = await rawRequest(`${server.url}/attachments/upload`, {
      headers: { 'content-type': contentType, 'transfer-encoding': 'chunked' },
      body: body(),
    });
    if (answer?.status !== 201) {
      throw new Error(`${server.kind} upload: ${answer?.status} ${answer?.body.toString()}`);
    }
  });
}

/** Deletes the files a server stored, keeping its folders (a storage may expect them). */
export async function deleteUploads(directory: string): Promise<void> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  await Promise.all(
    entries
      .filter((entry) => entry.isFile())
      .map((entry) => unlink(join(entry.parentPath, entry.name))),
  );
}
