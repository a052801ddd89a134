import '../support/harness.js';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { UploadResponse } from '../../src/index.js';
import { Photo } from '../support/entities.js';
import { png, streamedPng } from '../support/fixtures.js';
import { filesOnDisk, type Harness } from '../support/harness.js';
import { multipart, multipartHead, rawRequest } from '../support/http-client.js';
import { PLATFORMS } from '../support/platforms.js';
import { useHarness } from '../support/suite.js';

/** Resolves when `release` is called: holds a client's body open until the test lets go. */
function hold(): { released: Promise<void>; release: () => void } {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  return { released, release };
}

for (const platform of PLATFORMS) {
  describe(`POST /attachments/upload from a client that stops sending, on ${platform}`, () => {
    const suite = useHarness('sqlite', [Photo], {
      http: true,
      platform,
      upload: { idleTimeout: 300 },
    });
    let harness: Harness;
    let endpoint: string;
    before(() => {
      harness = suite.harness;
      endpoint = `${harness.baseUrl}/attachments/upload?entity=Photo&attachment=image`;
    });

    /** Sends `chunks`, then keeps the connection open, sending nothing, until the answer. */
    async function stall(chunks: Buffer[], contentType: string) {
      const open = hold();
      async function* body(): AsyncGenerator<Buffer> {
        yield* chunks;
        await open.released;
      }
      const answer = await rawRequest(endpoint, {
        headers: { 'content-type': contentType, 'transfer-encoding': 'chunked' },
        body: body(),
        ownConnection: true,
      });
      open.release();
      return answer;
    }

    async function assertTimedOut(answer: Awaited<ReturnType<typeof stall>>) {
      assert.ok(answer, 'the server answered');
      assert.equal(answer.status, 408, answer.body.toString());
      assert.equal(answer.json?.code, 'upload_timeout');
      assert.match(String(answer.json?.message), /stalled: less than 1 KiB arrived in 300 ms/);
      assert.equal(answer.headers.connection, 'close');
      assert.deepEqual(await filesOnDisk(harness, 'cache'), [], 'no partial file is left');
      // The server still takes uploads.
      const { body, contentType } = multipart([
        { name: 'file', filename: 'ok.png', data: png(3, 3) },
      ]);
      const next = await rawRequest(endpoint, {
        headers: { 'content-type': contentType, 'content-length': body.length },
        body,
      });
      assert.equal(next?.status, 201);
      await harness.storages.cache!.delete((next!.json as unknown as UploadResponse).file.id);
    }

    it('ends an upload that stops midway through the file with 408 and removes its part', async () => {
      const { head, contentType } = multipartHead('slow.png');
      // More than the head the server reads to name the file: the partial file is on disk.
      const start = [...streamedPng(900 * 1024, 64 * 1024)].slice(0, 9); // a PNG's first 512 KiB
      const answer = await stall([head, ...start], contentType);
      await assertTimedOut(answer);
    });

    it('ends an upload that trickles a byte at a time with 408', async () => {
      const { head, contentType } = multipartHead('trickle.png');
      let answered = false;
      async function* body(): AsyncGenerator<Buffer> {
        yield head;
        yield png(8, 8);
        // A byte every 20 ms: never idle for 300 ms, yet far too slow to be a real upload.
        while (!answered) {
          yield Buffer.from([1]);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
      const answer = await rawRequest(endpoint, {
        headers: { 'content-type': contentType, 'transfer-encoding': 'chunked' },
        body: body(),
        ownConnection: true,
      });
      answered = true;
      await assertTimedOut(answer);
    });

    it('ends an upload that stops before its file part with 408', async () => {
      const { contentType } = multipartHead('never.png');
      const boundary = contentType.split('boundary=')[1]!;
      const answer = await stall([Buffer.from(`--${boundary}\r\nContent-Disp`)], contentType);
      await assertTimedOut(answer);
    });
  });
}
