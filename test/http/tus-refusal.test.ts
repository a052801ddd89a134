import '../support/harness.js';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Photo } from '../support/entities.js';
import { RefusingGuard } from '../support/refusing-guard.js';
import { fetchUpload, type FetchUpload } from '../support/fetch-upload-process.js';
import { png } from '../support/fixtures.js';
import type { Harness } from '../support/harness.js';
import { useHarness } from '../support/suite.js';
import { tusUpload } from '../support/tus-client.js';

const MiB = 1024 * 1024;
const TUS_BODY = 'application/offset+octet-stream';
const METADATA = `entity ${btoa('Photo')},attachment ${btoa('image')},filename ${btoa('big.png')}`;

describe('refusals of the tus endpoint, read by fetch', () => {
  const staging = mkdtempSync(join(tmpdir(), 'attachments-tus-'));
  const suite = useHarness('sqlite', [Photo], {
    http: true,
    worker: false,
    upload: { tus: { directory: staging } },
    extras: { controller: { guards: [RefusingGuard] } },
  });
  let harness: Harness;
  let endpoint: string;
  before(() => {
    harness = suite.harness;
    endpoint = `${harness.baseUrl}/attachments/tus`;
  });
  after(() => rm(staging, { recursive: true, force: true }));

  /** fetch, in a process of its own, read the JSON 413; the endpoint goes on serving. */
  async function refused(
    upload: FetchUpload,
    message: RegExp,
    status = 413,
    code = 'file_too_large',
  ) {
    const outcome = await fetchUpload(upload);
    assert.ok('status' in outcome, `fetch read no answer: ${JSON.stringify(outcome)}`);
    assert.equal(outcome.status, status, JSON.stringify(outcome.body));
    assert.equal(outcome.body.statusCode, status);
    assert.equal(outcome.body.code, code);
    assert.match(String(outcome.body.message), message);
    const next = await tusUpload(endpoint, png(4, 4), {
      metadata: { entity: 'Photo', attachment: 'image', filename: 'ok.png' },
    });
    await harness.storages.cache!.delete(next.answer.file.id);
  }

  /** A created upload of `length` bytes, its URL. */
  async function created(length: number): Promise<string> {
    const answer = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'Tus-Resumable': '1.0.0',
        'Upload-Length': String(length),
        'Upload-Metadata': METADATA,
      },
    });
    assert.equal(answer.status, 201);
    return new URL(answer.headers.get('location')!, endpoint).href;
  }

  it('answers 413 to a creation-with-upload whose Upload-Length is over maxSize, body and all', async () => {
    await refused(
      {
        url: endpoint,
        contentType: TUS_BODY,
        headers: {
          'Tus-Resumable': '1.0.0',
          'Upload-Length': String(8 * MiB),
          'Upload-Metadata': METADATA,
        },
        body: [8 * MiB],
        contentLength: true,
      },
      /Maximum size exceeded/,
    );
    assert.deepEqual(await readdir(staging), [], 'no upload was created');
  });

  it('answers 413 to a creation-with-upload streaming more than its Upload-Length', async () => {
    await refused(
      {
        url: endpoint,
        contentType: TUS_BODY,
        headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '1000', 'Upload-Metadata': METADATA },
        body: [16 * MiB],
        contentLength: false,
      },
      /exceeded/,
    );
  });

  it('answers 413 to a PATCH body announced over the upload length', async () => {
    await refused(
      {
        url: await created(1000),
        method: 'PATCH',
        contentType: TUS_BODY,
        headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0' },
        body: [8 * MiB],
        contentLength: true,
      },
      /exceeded/,
    );
  });

  it('answers 413 to a PATCH streaming past the upload length', async () => {
    await refused(
      {
        url: await created(1000),
        method: 'PATCH',
        contentType: TUS_BODY,
        headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0' },
        body: [16 * MiB],
        contentLength: false,
      },
      /exceeded/,
    );
  });

  it("answers a guard's 403 to a PATCH whose body it never read", async () => {
    await refused(
      {
        url: await created(1000),
        method: 'PATCH',
        contentType: TUS_BODY,
        headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0', 'x-refuse': 'yes' },
        body: [16 * MiB],
        contentLength: false,
      },
      /Not you/,
      403,
      'http_error',
    );
  });
});
