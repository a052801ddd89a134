import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { TestDatabase } from './databases.js';
import type { Harness } from './harness.js';

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** A child process whose stdout lines are all kept, so a test can wait for any of them. */
export class Child {
  readonly lines: string[] = [];
  private buffer = '';
  private readonly waiters: (() => void)[] = [];

  constructor(readonly process: ChildProcess) {
    process.stdout!.on('data', (data: Buffer) => {
      this.buffer += data.toString();
      const parts = this.buffer.split('\n');
      this.buffer = parts.pop()!;
      this.lines.push(...parts);
      for (const wake of this.waiters.splice(0)) wake();
    });
    process.once('exit', () => {
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  get exited(): boolean {
    return this.process.exitCode !== null || this.process.signalCode !== null;
  }

  /** The first line matching, among those printed so far or to come. */
  async line(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find((line) => pattern.test(line));
      if (found) return found;
      if (this.exited) throw new Error(`process exited before printing ${pattern}`);
      if (Date.now() > deadline) throw new Error(`no line matching ${pattern}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async kill(): Promise<void> {
    if (this.exited) return;
    const exited = once(this.process, 'exit');
    this.process.kill('SIGKILL');
    await exited;
  }
}

/** A Redis server of the test's own, so stopping it disturbs nothing else. */
export async function startRedis(port: number): Promise<Child> {
  const redis = new Child(
    spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    ),
  );
  await redis.line(/Ready to accept connections/, 30_000);
  return redis;
}

const workerScript = fileURLToPath(new URL('./worker-process.js', import.meta.url));

/**
 * A worker process (see worker-process.ts) over the web harness's database, files and queue.
 * `env` adds PAUSE_AT, RELAY_MS, EVENTS, REDIS_PORT and the like.
 */
export async function startWorker(
  web: Harness,
  db: TestDatabase,
  env: Record<string, string> = {},
): Promise<Child> {
  const worker = new Child(
    spawn(process.execPath, [workerScript], {
      env: {
        ...process.env,
        DATABASE_URL: (db.options as { url: string }).url,
        FILES_DIR: web.directory,
        QUEUE_PREFIX: web.queue.opts.prefix!,
        LOCK_MS: '1000',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  await worker.line(/^READY$/);
  return worker;
}
