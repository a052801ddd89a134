import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { UploadResponse } from '../../src/index.js';
import { streamedPng } from '../support/fixtures.js';
import { multipartHead, rawRequest } from '../support/http-client.js';
import { PLATFORMS } from '../support/platforms.js';

const HEAP_LIMIT_MB = 64;
const FILE_SIZE = 8 * HEAP_LIMIT_MB * 1024 * 1024;
const CHUNK = 1024 * 1024;
const script = fileURLToPath(new URL('../support/upload-server-process.js', import.meta.url));

for (const platform of PLATFORMS) {
  describe(`upload memory on ${platform}`, () => {
    let server: ChildProcess;
    let baseUrl: string;
    let directory: string;

    before(async () => {
      directory = await mkdtemp(join(tmpdir(), 'upload-memory-'));
      server = fork(script, [], {
        execArgv: [`--max-old-space-size=${HEAP_LIMIT_MB}`],
        env: { ...process.env, FILES_DIR: directory, HTTP_PLATFORM: platform },
        stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      });
      baseUrl = await new Promise<string>((resolve, reject) => {
        let output = '';
        server.stdout!.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const match = /LISTENING (\S+)/.exec(output);
          if (match) resolve(match[1]!);
        });
        server.once('exit', (code) => reject(new Error(`upload server exited (${code})`)));
      });
    });

    after(async () => {
      server?.kill('SIGTERM');
      await new Promise((resolve) => server?.once('exit', resolve));
      await rm(directory, { recursive: true, force: true });
    });

    it(`streams a file 8 times the server's ${HEAP_LIMIT_MB} MB heap limit`, async () => {
      const { head, tail, contentType } = multipartHead('big.png');
      const hash = createHash('sha256');
      // A whole PNG: the probe reads its chunks to the end as they stream.
      async function* body() {
        yield head;
        for (const chunk of streamedPng(FILE_SIZE, CHUNK, (data, offset) =>
          data.fill(offset & 0xff),
        )) {
          hash.update(chunk);
          yield chunk;
        }
        yield tail;
      }
      const answer = await rawRequest(`${baseUrl}/attachments/upload`, {
        headers: { 'content-type': contentType, 'transfer-encoding': 'chunked' },
        body: body(),
      });
      assert.equal(answer?.status, 201, answer?.body.toString());
      const { file } = answer!.json as unknown as UploadResponse;
      assert.equal(file.metadata.size, FILE_SIZE);
      assert.equal(file.metadata.sha256, hash.digest('hex'));
      assert.equal(file.metadata.mimeType, 'image/png');

      const usage = await new Promise<{ maxRssBytes: number }>((resolve) => {
        server.once('message', (message) => resolve(message as { maxRssBytes: number }));
        server.send('report');
      });
      const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
      console.log(`# uploaded ${mb(FILE_SIZE)} MB; server peak RSS ${mb(usage.maxRssBytes)} MB`);
      // Buffers live outside the V8 heap, so the heap cap alone would not catch a server that
      // holds the file: its resident memory would exceed the file's size. Half of it is far above
      // what streaming needs (Nest itself plus a few chunks) and far below what holding needs.
      assert.ok(usage.maxRssBytes < FILE_SIZE / 2, `peak RSS ${mb(usage.maxRssBytes)} MB`);
    });
  });
}
