/**
 * The library's routes in an app's OpenAPI document (`@nestjs/swagger`): every route under the
 * app's prefixes, with its parameters, bodies, answers and refusals; and the documented schemas
 * hold for what the routes really answer. The same document on Express and on Fastify.
 */
import '../support/harness.js';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { AttachmentsModule, attachmentEntities, MemoryStorage } from '../../src/index.js';
import { createTestDatabase } from '../support/databases.js';
import { Photo } from '../support/entities.js';
import { png } from '../support/fixtures.js';
import { multipart } from '../support/http-client.js';
import { schemaProblems, type OpenApiSchema } from '../support/openapi-schema.js';
import { PLATFORMS, type HttpPlatform } from '../support/platforms.js';
import { redisConnection, SECRET } from '../support/harness.js';
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

interface Operation {
  summary?: string;
  tags?: string[];
  parameters?: { name: string; in: string; required?: boolean; style?: string; schema?: unknown }[];
  requestBody?: { required?: boolean; content: Record<string, { schema: OpenApiSchema }> };
  responses: Record<
    string,
    { description: string; content?: Record<string, { schema: OpenApiSchema }> }
  >;
}

const operations = (document: OpenAPIObject) =>
  Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item as Record<string, Operation>).map(([method, operation]) => ({
      route: `${method.toUpperCase()} ${path}`,
      operation,
    })),
  );

const operation = (document: OpenAPIObject, method: string, path: string): Operation => {
  const found = (document.paths[path] as Record<string, Operation> | undefined)?.[method];
  assert.ok(found, `${method} ${path} is described`);
  return found;
};

const jsonSchema = (operation: Operation, status: number): OpenApiSchema => {
  const schema = operation.responses[status]?.content?.['application/json']?.schema;
  assert.ok(schema, `a JSON schema for ${status}`);
  return schema;
};

const queryParameters = (operation: Operation) =>
  (operation.parameters ?? []).filter((parameter) => parameter.in === 'query');

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

describe('the OpenAPI setup an app makes in main.ts, on express', () => {
  it('serves the document with the routes of the module, and its page', async () => {
    const db = await createTestDatabase('sqlite', [Photo, ...attachmentEntities]);
    @Module({
      imports: [
        AttachmentsModule.forRoot({
          secret: SECRET,
          connection: redisConnection(),
          queuePrefix: `openapi${process.pid}`,
          worker: false,
          dataSource: db.dataSource,
          storages: { cache: new MemoryStorage(), store: new MemoryStorage() },
        }),
      ],
    })
    class AppModule {}
    const app = await NestFactory.create(AppModule, { logger: false });
    try {
      const config = new DocumentBuilder()
        .setTitle('Photos')
        .addTag('attachments', 'Uploads and downloads of files')
        .build();
      SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, config));
      await app.listen(0, '127.0.0.1');
      const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
      const served = (await (await fetch(`${url}/docs-json`)).json()) as OpenAPIObject;
      assert.deepEqual(served.tags, [
        { name: 'attachments', description: 'Uploads and downloads of files' },
      ]);
      const upload = operation(served, 'post', '/attachments/upload');
      assert.deepEqual(upload.tags, ['attachments']);
      assert.ok(upload.requestBody?.content['multipart/form-data']);
      const page = await fetch(`${url}/docs`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /swagger-ui/);
    } finally {
      await app.close();
      await db.close();
    }
  });
});
