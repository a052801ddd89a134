import '../support/harness.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type * as Client from '../../client/direct-upload.js';
import type {
  DirectUploadParams,
  DirectUploadService,
  MultipartUploadCompletion,
  UploadTarget,
} from '../../src/http/direct-upload.service.js';
import type { UploadResponse } from '../../src/index.js';
import { Photo } from '../support/entities.js';
import { png } from '../support/fixtures.js';
import { multipart, rawRequest } from '../support/http-client.js';
import { useHarness } from '../support/suite.js';

/**
 * 'agree' only while the server's type and the client's hand-written one accept each other's
 * values and name the same fields; else the reason, as the one value the call would accept.
 */
type Agree<Server, Client> = [Server, keyof Server] extends [Client, keyof Client]
  ? [Client, keyof Client] extends [Server, keyof Server]
    ? 'agree'
    : 'the client declares what the server does not answer'
  : 'the server answers what the client does not declare';

/** A call that does not compile once the two sides drift apart: `npm test` builds every test. */
const agree = <Server, Client>(verdict: Agree<Server, Client>) => verdict;

agree<UploadResponse, Client.UploadResponse>('agree');
agree<UploadResponse['file'], Client.UploadResponse['file']>('agree');
agree<UploadResponse['file']['metadata'], Client.UploadResponse['file']['metadata']>('agree');
agree<DirectUploadParams, Client.StorageUploadParams>('agree');

/** 'reads' only while the server's answer has every field, of its type, that the client reads. */
type Reads<Server, Read> = Server extends Read
  ? 'reads'
  : 'the client reads a field the server does not answer';
const reads = <Server, Read>(verdict: Reads<Server, Read>) => verdict;
type Answer<Route extends keyof DirectUploadService> = Awaited<
  ReturnType<DirectUploadService[Route]>
>;

// What client/direct-upload-multipart.js reads of the multipart routes' answers, and sends them.
reads<Answer<'createMultipart'>, { uploadId: string; key: string }>('reads');
reads<Answer<'signPart'>, { url: string }>('reads');
reads<MultipartUploadCompletion, { token: string; file: { id: string } }>('reads');
reads<'filename' | 'type' | 'entity' | 'attachment', keyof UploadTarget>('reads');

type ClientFile = Client.UploadResponse['file'];
const declared = {
  answer: ['token', 'file', 'url'] satisfies (keyof Client.UploadResponse)[],
  file: ['id', 'storage', 'metadata'] satisfies (keyof ClientFile)[],
  metadata: [
    'filename',
    'size',
    'mimeType',
    'width',
    'height',
    'sha256',
  ] satisfies (keyof ClientFile['metadata'])[],
};

describe('the browser client declarations', () => {
  const suite = useHarness('sqlite', [Photo], { http: true });

  it('name every field of a real upload answer, and the answer has every field they require', async () => {
    const { body, contentType } = multipart([{ name: 'file', filename: 'a.png', data: png(5, 4) }]);
    const url = `${suite.harness.baseUrl}/attachments/upload?entity=Photo&attachment=image`;
    const answer = await rawRequest(url, {
      headers: { 'content-type': contentType },
      body,
    });
    assert.equal(answer?.status, 201);
    const json = answer.json!;
    const file = json.file as Record<string, unknown>;
    const metadata = file.metadata as Record<string, unknown>;
    assert.deepEqual(Object.keys(json).sort(), [...declared.answer].sort());
    assert.deepEqual(Object.keys(file).sort(), [...declared.file].sort());
    // The image's own fields (width, height) and the hash are optional in the declarations; a
    // PNG has them all, so every declared field shows here.
    assert.deepEqual(Object.keys(metadata).sort(), [...declared.metadata].sort());
    assert.equal(typeof json.token, 'string');
    assert.equal(typeof json.url, 'string');
    assert.deepEqual(
      { filename: metadata.filename, mimeType: metadata.mimeType, width: metadata.width },
      { filename: 'a.png', mimeType: 'image/png', width: 5 },
    );
  });
});
