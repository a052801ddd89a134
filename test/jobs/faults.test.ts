import '../support/harness.js';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { attachmentEntities, AttachmentWork } from '../../src/index.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { Photo } from '../support/entities.js';
import { png } from '../support/fixtures.js';
import {
  referencedFiles,
  startHarness,
  storedFiles,
  waitFor,
  waitForIdle,
  type Harness,
} from '../support/harness.js';

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** A Redis server of this test's own, so stopping it disturbs nothing else. */
async function startRedis(port: number): Promise<ChildProcess> {
  const redis = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await waitForLine(redis, /Ready to accept connections/);
  return redis;
}

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`no line matching ${pattern}`)), timeoutMs);
    const onData = (data: Buffer) => {
      buffer += data.toString();
      const line = buffer.split('\n').find((candidate) => pattern.test(candidate));
      if (line) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(line);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`process exited (${code}) before ${pattern}`)));
  });
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

describe('faults on postgres', () => {
  let db: TestDatabase;

  before(async () => {
    db = await createTestDatabase('postgres', [Photo, ...attachmentEntities]);
  });

  after(async () => {
    await db?.close();
  });

  it('Redis down during save: save succeeds, the relay sends the work once Redis is back', async () => {
    const port = await freePort();
    let redis = await startRedis(port);
    const harness: Harness = await startHarness({
      dataSource: db.dataSource,
      connection: { host: '127.0.0.1', port },
      relay: { interval: 200, after: 100 },
    });
    try {
      const photos = db.dataSource.getRepository(Photo);
      const photo = photos.create({ title: 'offline' });
      await harness.attachments.attach(photo, 'image', png(7, 7), { filename: 'o.png' });
      await kill(redis);

      await photos.save(photo); // must not throw although the job cannot be queued
      const work = await db.dataSource.getRepository(AttachmentWork).findBy({ status: 'pending' });
      assert.equal(work.length, 1, 'the promotion waits in the outbox');
      await new Promise((resolve) => setTimeout(resolve, 500)); // relay passes fail meanwhile
      assert.equal((await photos.findOneByOrFail({ id: photo.id })).image?.storage, 'cache');

      redis = await startRedis(port);
      await waitFor(
        async () => (await photos.findOneByOrFail({ id: photo.id })).image?.storage === 'store',
        'promotion after Redis came back',
      );
      await waitForIdle(harness, db.dataSource);
      assert.deepEqual(
        await storedFiles(harness.storages),
        await referencedFiles(db.dataSource, [{ entity: Photo, properties: ['image'] }]),
      );
    } finally {
      await harness.close();
      await kill(redis);
      // The files went with the harness's directory; the next test starts from no records.
      await db.dataSource.getRepository(Photo).clear();
    }
  });

  it('a worker killed with SIGKILL mid-promotion: a new worker finishes, nothing orphaned', async () => {
    // This process only writes records (worker: false); the workers are child processes.
    const web = await startHarness({ dataSource: db.dataSource, worker: false });
    const workerScript = fileURLToPath(new URL('../support/worker-process.js', import.meta.url));
    const workerEnv = {
      ...process.env,
      DATABASE_URL: (db.options as { url: string }).url,
      FILES_DIR: web.directory,
      QUEUE_PREFIX: web.queue.opts.prefix!,
    };
    const spawnWorker = (extra: Record<string, string>) =>
      spawn(process.execPath, [workerScript], {
        env: { ...workerEnv, ...extra },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
    let worker = spawnWorker({ PAUSE_AT: 'promote:before-write', LOCK_MS: '1000' });
    try {
      await waitForLine(worker, /^READY$/);
      const photos = db.dataSource.getRepository(Photo);
      const saved: Photo[] = [];
      for (let i = 0; i < 3; i++) {
        const photo = photos.create({ title: `crash ${i}` });
        await web.attachments.attach(photo, 'image', png(3 + i, 3), { filename: 'c.png' });
        saved.push(await photos.save(photo));
      }
      // The copy is done and the column not yet written when the worker dies.
      await waitForLine(worker, /^PAUSED /);
      await kill(worker);

      worker = spawnWorker({ LOCK_MS: '1000' });
      await waitForLine(worker, /^READY$/);
      for (const photo of saved) {
        await waitFor(
          async () => (await photos.findOneByOrFail({ id: photo.id })).image?.storage === 'store',
          `photo ${photo.id} to be stored after the crash`,
          60_000,
        );
      }
      await waitForIdle(web, db.dataSource, 60_000);
      assert.deepEqual(
        await storedFiles(web.storages),
        await referencedFiles(db.dataSource, [{ entity: Photo, properties: ['image'] }]),
        'every attachment stored once, no copy left over from the killed attempt',
      );
    } finally {
      await kill(worker);
      await web.close();
    }
  });
});
