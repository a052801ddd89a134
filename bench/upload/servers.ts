/** The bench side of the upload servers: start and stop them, upload to them, clean up. */
import { fork, type ChildProcess } from 'node:child_process';
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
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
  /** The server process's id, to read its memory from /proc. */
  pid: number;
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
    pid: child.pid!,
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
/**
 * The file is a whole PNG, as the library's probe checks an image to its end: a 16x16 PNG's
 * signature and IHDR, then IDAT chunks of one MiB that are all the same bytes (so one CRC
 * serves them all, and the client spends no time making content), then IEND. Only the last
 * IDAT, which fills the file to its exact size, is built per upload.
 */
const pngStart = png(16, 16).subarray(0, 33);
const pngEnd = png(16, 16).subarray(-12);
const IDAT_OVERHEAD = 12;

function idatChunk(data: Buffer): Buffer {
  const chunk = Buffer.alloc(data.length + IDAT_OVERHEAD);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write('IDAT', 4, 'latin1');
  data.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return chunk;
}

const fullIdat = idatChunk(Buffer.alloc(CHUNK - IDAT_OVERHEAD, 'attachments bench '));

/** The chunks of a whole PNG of exactly `size` bytes (at least 57 + 12). */
export function* pngOf(size: number): Generator<Buffer> {
  yield pngStart;
  let left = size - pngStart.length - pngEnd.length;
  for (; left >= CHUNK + IDAT_OVERHEAD; left -= CHUNK) yield fullIdat;
  yield idatChunk(fullIdat.subarray(8, 8 + left - IDAT_OVERHEAD));
  yield pngEnd;
}

/**
 * Streams a `size`-byte file as multipart with chunked encoding, never holding it whole;
 * resolves with the wall time in ms from the first byte sent to the end of the answer.
 */
export function uploadOnce(server: UploadServer, size: number): Promise<number> {
  const { head, tail, contentType } = multipartHead('bench.png');
  async function* body() {
    yield head;
    yield* pngOf(size);
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
