/**
 * An app's own OpenAPI setup, as the README shows it: `SwaggerModule.setup` serves a document
 * that holds the module's routes, and its page.
 */
import '../support/harness.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { AttachmentsModule, attachmentEntities, MemoryStorage } from '../../src/index.js';
import { createTestDatabase } from '../support/databases.js';
import { Photo } from '../support/entities.js';
import { redisConnection, SECRET } from '../support/harness.js';
import { operation } from '../support/openapi-document.js';

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
