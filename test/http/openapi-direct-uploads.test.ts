/**
 * The documented schemas of the S3 direct-upload routes hold for what they really answer, along
 * the whole flow Uppy's AwsS3 runs against s3rver: presign, multipart create, part URLs, the
 * listing, completion, abort, and a refusal.
 */
import '../support/harness.js';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { Photo } from '../support/entities.js';
import { png } from '../support/fixtures.js';
import { jsonSchema, operation, schemaProblems } from '../support/openapi-document.js';
import { useS3Storages } from '../support/s3rver.js';
import { useHarness } from '../support/suite.js';

describe('the OpenAPI schemas of the direct-upload routes, against their answers', () => {
  const s3 = useS3Storages();
  const suite = useHarness('sqlite', [Photo], { http: true, worker: false, storages: s3.storages });
  let document: OpenAPIObject;
  before(() => {
    const app = suite.harness.app as INestApplication;
    document = SwaggerModule.createDocument(app, new DocumentBuilder().build());
  });

  /** Calls `method path` and checks the answer against what the document says of its status. */
  const call = async (method: string, route: string, path: string, body?: unknown) => {
    const response = await fetch(`${suite.harness.baseUrl}/attachments/s3${path}`, {
      method: method.toUpperCase(),
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const answer = (await response.json()) as Record<string, unknown>;
    const described = operation(document, method, `/attachments/s3${route}`);
    const schema = jsonSchema(described, response.status);
    assert.deepEqual(schemaProblems(answer, schema), [], `${method} ${route} ${response.status}`);
    return { status: response.status, answer, described };
  };

  it('every answer of the flow fits the schema of its route and status', async () => {
    const presigned = await call(
      'get',
      '/params',
      '/params?filename=a.png&type=image/png&entity=Photo&attachment=image',
    );
    assert.equal(presigned.status, 200);

    const target = {
      filename: 'b.png',
      type: 'image/png',
      metadata: { entity: 'Photo', attachment: 'image' },
    };
    const created = await call('post', '/multipart', '/multipart', target);
    assert.equal(created.status, 200);
    const { uploadId, key } = created.answer as { uploadId: string; key: string };
    const upload = `/multipart/${encodeURIComponent(uploadId)}`;
    const query = `?key=${encodeURIComponent(key)}`;

    const part = await call('get', '/multipart/{uploadId}/{partNumber}', `${upload}/1${query}`);
    const sent = await fetch(part.answer.url as string, { method: 'PUT', body: png(6, 6) });
    const ETag = sent.headers.get('etag');
    assert.ok(sent.ok && ETag, 'the part reached s3rver');
    const listed = await call('get', '/multipart/{uploadId}', `${upload}${query}`);
    assert.equal((listed.answer as unknown as unknown[]).length, 1);

    const complete = '/multipart/{uploadId}/complete';
    const done = await call('post', complete, `${upload}/complete${query}`, {
      parts: [{ PartNumber: 1, ETag }],
    });
    assert.equal(done.status, 200);
    assert.equal((done.answer.file as { metadata: { width: number } }).metadata.width, 6);

    const refused = await call('post', complete, `${upload}/complete?key=forged`, { parts: [] });
    assert.equal(refused.status, 400);
    assert.match(
      refused.described.responses[400]!.description,
      new RegExp(`\`${String(refused.answer.code)}\``),
    );

    const other = await call('post', '/multipart', '/multipart', target);
    const { uploadId: otherId, key: otherKey } = other.answer as { uploadId: string; key: string };
    const aborted = await call(
      'delete',
      '/multipart/{uploadId}',
      `/multipart/${encodeURIComponent(otherId)}?key=${encodeURIComponent(otherKey)}`,
    );
    assert.deepEqual(aborted.answer, {});
  });
});
