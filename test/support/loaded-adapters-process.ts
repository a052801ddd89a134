/**
 * Starts the module's routes on the adapter HTTP_PLATFORM names, sends an upload and a file
 * request through them, and prints which HTTP frameworks the process loaded, as JSON
 * (`{"express": n, "fastify": m}`, counts of their modules). Both are CommonJS packages, so
 * whatever imported them left them in the module cache.
 */
import 'reflect-metadata';
import { createRequire } from 'node:module';
import { attachmentEntities, type UploadResponse } from '../../src/index.js';
import { createTestDatabase } from './databases.js';
import { Photo } from './entities.js';
import { png } from './fixtures.js';
import { startHarness } from './harness.js';
import { multipart, rawRequest } from './http-client.js';
import { platformFromEnvironment } from './platforms.js';

const db = await createTestDatabase('sqlite', [Photo, ...attachmentEntities]);
const harness = await startHarness({
  dataSource: db.dataSource,
  http: true,
  platform: platformFromEnvironment(),
  worker: false,
});
try {
  const { body, contentType } = multipart([{ name: 'file', filename: 'a.png', data: png(4, 4) }]);
  const endpoint = `${harness.baseUrl}/attachments/upload?entity=Photo&attachment=image`;
  const uploaded = await rawRequest(endpoint, {
    headers: { 'content-type': contentType },
    body,
  });
  if (uploaded?.status !== 201) throw new Error(`upload answered ${uploaded?.status}`);
  const { url } = uploaded.json as unknown as UploadResponse;
  const served = await rawRequest(`${harness.baseUrl}${url}`, { method: 'GET' });
  if (served?.status !== 200) throw new Error(`the file answered ${served?.status}`);
} finally {
  await harness.close();
  await db.close();
}
const loaded = Object.keys(createRequire(import.meta.url).cache);
const count = (name: string) => loaded.filter((path) => path.includes(`/node_modules/${name}/`));
process.stdout.write(
  `${JSON.stringify({ express: count('express').length, fastify: count('fastify').length })}\n`,
);
