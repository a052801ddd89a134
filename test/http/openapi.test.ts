/**
 * The library's routes in an app's OpenAPI document (`@nestjs/swagger`): every route under the
 * app's prefixes, with its parameters, bodies, answers and refusals; and the documented schemas
 * hold for what the routes really answer. The same document on Express and on Fastify.
 */
import '../support/harness.js';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { Photo } from '../support/entities.js';
import { png } from '../support/fixtures.js';
import { multipart } from '../support/http-client.js';
import {
  jsonSchema,
  operation,
  operations,
  queryParameters,
  schemaProblems,
} from '../support/openapi-document.js';
import { PLATFORMS, type HttpPlatform } from '../support/platforms.js';
import { useHarness } from '../support/suite.js';

/** Every route of the module, under the app's global prefix `api` and the path `uploads`. */
const ROUTES = [
  'DELETE /api/uploads/s3/multipart/{uploadId}',
  'DELETE /api/uploads/tus/{id}',
  'GET /api/uploads/client.js',
  'GET /api/uploads/derivatives/{entity}/{attachment}/{name}',
  'GET /api/uploads/direct-upload-multipart.js',
  'GET /api/uploads/direct-upload-requests.js',
  'GET /api/uploads/direct-upload-tus.js',
  'GET /api/uploads/files/{storage}/{id}',
  'GET /api/uploads/s3/multipart/{uploadId}',
  'GET /api/uploads/s3/multipart/{uploadId}/{partNumber}',
  'GET /api/uploads/s3/params',
  'HEAD /api/uploads/tus/{id}',
  'PATCH /api/uploads/tus/{id}',
  'POST /api/uploads/s3/multipart',
  'POST /api/uploads/s3/multipart/{uploadId}/complete',
  'POST /api/uploads/tus',
  'POST /api/uploads/upload',
];

/** The document each platform's app made, to compare them once both ran. */
const documents: Partial<Record<HttpPlatform, OpenAPIObject>> = {};

for (const platform of PLATFORMS) {
  describe(`the OpenAPI document of the routes, on ${platform}`, () => {
    const suite = useHarness('sqlite', [Photo], {
      http: true,
      platform,
      worker: false,
      globalPrefix: 'api',
      extras: { controller: { path: 'uploads', urlPrefix: '/api/uploads' } },
    });
    let document: OpenAPIObject;
    before(() => {
      const app = suite.harness.app as INestApplication;
      document = SwaggerModule.createDocument(app, new DocumentBuilder().build());
      documents[platform] = document;
    });

    const upload = (parts: Parameters<typeof multipart>[0], query = '') => {
      const { body, contentType } = multipart(parts);
      return fetch(`${suite.harness.baseUrl}/api/uploads/upload${query}`, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body,
      });
    };

    it('describes every route under the global prefix and the controller path, tagged', () => {
      const described = operations(document);
      assert.deepEqual(described.map(({ route }) => route).sort(), ROUTES);
      for (const { route, operation } of described) {
        assert.deepEqual(operation.tags, ['attachments'], route);
        assert.ok(operation.summary, `${route} has a summary`);
      }
    });

    it('the upload takes the attachment in its query and one binary file in a multipart body', () => {
      const post = operation(document, 'post', '/api/uploads/upload');
      assert.deepEqual(
        queryParameters(post).map(({ name, required }) => ({ name, required })),
        [
          { name: 'entity', required: false },
          { name: 'attachment', required: false },
        ],
      );
      assert.equal(post.requestBody?.required, true);
      assert.deepEqual(Object.keys(post.requestBody.content), ['multipart/form-data']);
      const form = post.requestBody.content['multipart/form-data']!.schema;
      assert.deepEqual(form.required, ['file']);
      assert.deepEqual(
        { ...form.properties?.file, description: undefined },
        { type: 'string', format: 'binary', description: undefined },
      );
    });

    it('the 201 schema of the upload is what the route answers', async () => {
      const schema = jsonSchema(operation(document, 'post', '/api/uploads/upload'), 201);
      const answer = await upload(
        [{ name: 'file', filename: 'a.png', data: png(4, 4) }],
        '?entity=Photo&attachment=image',
      );
      assert.equal(answer.status, 201);
      const body = (await answer.json()) as Record<string, unknown>;
      assert.deepEqual(schemaProblems(body, schema), []);
      assert.deepEqual(schema.required, ['token', 'file', 'url']);
      // The check itself can fail: a token that is not text, a file without its metadata.
      const file = body.file as Record<string, unknown>;
      assert.deepEqual(
        schemaProblems({ ...body, token: 1, file: { ...file, metadata: undefined } }, schema),
        ['$.token: integer, not string', '$.file.metadata: undefined, not object'],
      );
    });

    it('every refusal is described with the error body, which real refusals fit', async () => {
      for (const { route, operation } of operations(document)) {
        // A range outside the file is answered with no body at all.
        const refusals = Object.keys(operation.responses).filter((status) => status >= '400');
        for (const status of refusals.filter((status) => status !== '416')) {
          const schema = jsonSchema(operation, Number(status));
          assert.deepEqual(schema.required, ['statusCode', 'message'], `${route} ${status}`);
          assert.deepEqual(Object.keys(schema.properties ?? {}).sort(), [
            'code',
            'error',
            'message',
            'statusCode',
          ]);
        }
      }
      const post = operation(document, 'post', '/api/uploads/upload');
      assert.deepEqual(Object.keys(post.responses), [
        '201',
        '400',
        '403',
        '408',
        '413',
        '415',
        '422',
      ]);
      assert.match(post.responses[413]!.description, /`file_too_large`/);
      assert.match(post.responses[415]!.description, /`file_type_not_allowed`/);
      assert.match(post.responses[422]!.description, /`empty_file`.*`image_dimensions`/);

      const unnamed = await upload([{ name: 'file', filename: 'a.png', data: png(4, 4) }]);
      const wrongType = await upload(
        [{ name: 'file', filename: 'a.txt', data: 'plain text' }],
        '?entity=Photo&attachment=image',
      );
      for (const [answer, code] of [
        [unnamed, 'attachment_required'],
        [wrongType, 'file_type_not_allowed'],
      ] as const) {
        const body = (await answer.json()) as { code: string };
        assert.equal(body.code, code);
        const documented = post.responses[answer.status];
        assert.ok(documented, `${answer.status} is documented`);
        assert.match(documented.description, new RegExp(`\`${code}\``));
        assert.deepEqual(schemaProblems(body, jsonSchema(post, answer.status)), []);
      }
    });

    it('the direct uploads: the query Uppy sends, the JSON bodies, and their answers', () => {
      const params = operation(document, 'get', '/api/uploads/s3/params');
      assert.deepEqual(
        queryParameters(params).map(({ name, style }) => (style ? `${name} (${style})` : name)),
        ['filename', 'type', 'entity', 'attachment', 'method', 'metadata (deepObject)'],
      );
      assert.deepEqual(jsonSchema(params, 200).required, [
        'method',
        'url',
        'fields',
        'headers',
        'key',
        'token',
      ]);
      const create = operation(document, 'post', '/api/uploads/s3/multipart');
      const createBody = create.requestBody?.content['application/json']?.schema;
      assert.deepEqual(Object.keys(createBody?.properties ?? {}), [
        'filename',
        'type',
        'entity',
        'attachment',
        'metadata',
      ]);
      assert.deepEqual(jsonSchema(create, 200).required, ['uploadId', 'key']);
      const complete = operation(document, 'post', '/api/uploads/s3/multipart/{uploadId}/complete');
      assert.deepEqual(complete.requestBody?.content['application/json']?.schema.required, [
        'parts',
      ]);
      assert.deepEqual(
        (complete.parameters ?? []).map(
          ({ name, in: where, required }) => `${where}:${name}:${required}`,
        ),
        ['path:uploadId:true', 'query:key:true'],
      );
      assert.deepEqual(jsonSchema(complete, 200).required, ['location', 'key', 'token', 'file']);
      assert.deepEqual(Object.keys(complete.responses), [
        '200',
        '400',
        '403',
        '404',
        '413',
        '415',
        '422',
      ]);
    });

    it('tus: the bytes of a PATCH, and the last one answering as the upload route does', () => {
      const append = operation(document, 'patch', '/api/uploads/tus/{id}');
      assert.deepEqual(append.requestBody?.content, {
        'application/offset+octet-stream': { schema: { type: 'string', format: 'binary' } },
      });
      const upload = operation(document, 'post', '/api/uploads/upload');
      assert.deepEqual(jsonSchema(append, 200), jsonSchema(upload, 201));
      assert.deepEqual(Object.keys(append.responses).slice(0, 2), ['200', '204']);
    });

    it('the files route: its path parameters, signed query, and streamed answers', () => {
      const download = operation(document, 'get', '/api/uploads/files/{storage}/{id}');
      assert.deepEqual(
        (download.parameters ?? []).map(({ name, in: where }) => `${where}:${name}`),
        ['path:storage', 'path:id', 'query:filename', 'query:expires', 'query:signature'],
      );
      assert.deepEqual(download.responses[200]?.content, {
        '*/*': { schema: { type: 'string', format: 'binary' } },
      });
      assert.ok(download.responses[206] && download.responses[416]);
    });
  });
}

describe('the OpenAPI document, across platforms', () => {
  it('is the same on Express and on Fastify', () => {
    assert.ok(documents.express && documents.fastify, 'both documents were made');
    assert.deepEqual(documents.fastify, documents.express);
  });
});
