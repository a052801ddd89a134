import '../support/harness.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NestFactory } from '@nestjs/core';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { Photo } from '../../sample/photo.entity.js';
import { ATTACHMENTS_QUEUE, AttachmentsService } from '../../src/index.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { png } from '../support/fixtures.js';
import { REDIS_URL, SECRET, redisConnection, waitFor } from '../support/harness.js';
import { Child } from '../support/processes.js';

const workerScript = fileURLToPath(new URL('../../sample/deployment/worker.js', import.meta.url));

/**
 * sample/deployment: @nestjs/typeorm with autoLoadEntities, the schema from migrations on
 * PostgreSQL, a web process that runs no job and a worker-only process.
 */
describe('the deployment sample', () => {
  let database: TestDatabase;
  let uploads: string;
  const prefix = `deploy${randomBytes(4).toString('hex')}`;

  before(async () => {
    // An empty database: no entity, so nothing is synchronized into it.
    database = await createTestDatabase('postgres', []);
    await database.dataSource.destroy();
    uploads = await mkdtemp(join(tmpdir(), 'deployment-sample-'));
    Object.assign(process.env, {
      DATABASE_URL: (database.options as { url: string }).url,
      REDIS_URL,
      UPLOADS_DIR: uploads,
      QUEUE_PREFIX: prefix,
      ATTACHMENTS_SECRET: SECRET,
    });
  });

  after(async () => {
    await database.close();
    await rm(uploads, { recursive: true, force: true });
  });

  it('migrates to the schema that the entities describe, and back', async () => {
    const { default: dataSource } = await import('../../sample/deployment/data-source.js');
    await dataSource.initialize();
    try {
      const ran = await dataSource.runMigrations();
      assert.deepEqual(
        ran.map((migration) => migration.name),
        ['CreatePhotos1764547200000', 'Attachments1764633600000'],
      );
      // What `typeorm migration:generate` would write next: nothing.
      const pending = await dataSource.driver.createSchemaBuilder().log();
      assert.deepEqual(
        pending.upQueries.map((query) => query.query),
        [],
      );

      await dataSource.undoLastMigration();
      const tables = async () =>
        (
          (await dataSource.query(
            `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
          )) as { table_name: string }[]
        ).map((row) => row.table_name);
      assert.deepEqual(await tables(), ['migrations', 'photo']);
      await dataSource.runMigrations();
      assert.deepEqual(await tables(), [
        'attachment_claims',
        'attachment_work',
        'migrations',
        'photo',
      ]);
    } finally {
      await dataSource.destroy();
    }
  });

  it('saves in the web process, which runs no job, and promotes in the worker process', async () => {
    const { AppModule } = await import('../../sample/deployment/app.module.js');
    const web = await NestFactory.createApplicationContext(AppModule, { logger: ['error'] });
    const queue = new Queue(ATTACHMENTS_QUEUE, { connection: redisConnection(), prefix });
    let worker: Child | undefined;
    try {
      const photos = web.get(DataSource).getRepository(Photo);
      const photo = photos.create({ title: 'Sunset' });
      await web.get(AttachmentsService).attach(photo, 'image', png(2, 1), {
        filename: 'sunset.png',
      });
      await photos.save(photo);

      // Nothing in the web process takes the job: it waits in Redis for a worker.
      await waitFor(async () => (await queue.getJobCounts('waiting')).waiting === 1, 'the job');
      assert.equal((await photos.findOneByOrFail({ id: photo.id })).image?.storage, 'cache');

      worker = new Child(
        spawn(process.execPath, [workerScript], { stdio: ['ignore', 'pipe', 'pipe'] }),
      );
      await worker.line(/^worker ready$/);
      const stored = await waitFor(async () => {
        const row = await photos.findOneByOrFail({ id: photo.id });
        return row.image?.storage === 'store' && row.image;
      }, 'promotion by the worker process');
      assert.match(stored.id, /^photo\/\d+\/image\/[0-9a-f-]{36}\.png$/);

      // SIGTERM closes the worker's module, then the process ends.
      worker.process.kill('SIGTERM');
      await worker.exit;
      assert.ok(worker.exited);
    } finally {
      await worker?.kill();
      await queue.close();
      await web.close();
    }
  });
});
