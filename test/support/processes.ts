/**
 * Child processes for crash tests: a private Redis server that can be killed and started again
 * on its port, and worker processes (`worker-process.ts`) over a web harness's database, files
 * and queue.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TestDatabase } from './databases.js';
import type { Harness } from './harness.js';

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A child process whose stdout lines are all kept, so a test can wait for one printed before
 * or after it asks, and the end of its stderr, for a report.
 */
export class Child {
  readonly lines: string[] = [];
  /** Resolves when the process has exited, whatever the cause. */
  readonly exit: Promise<void>;
  private stderr = '';
  private ended = false;
  private readonly changes = new EventEmitter();

  constructor(readonly process: ChildProcess) {
    createInterface({ input: process.stdout! })
      .on('line', (line) => {
        this.lines.push(line);
        this.changes.emit('change');
      })
      .on('close', () => {
        this.ended = true;
        this.changes.emit('change');
      });
    // Kept short: a worker that loses Redis logs a line per reconnection attempt.
    process.stderr?.on('data', (data: Buffer) => {
      this.stderr = (this.stderr + data.toString()).slice(-4000);
    });
    this.exit = once(process, 'exit').then(
      () => undefined,
      (error: unknown) => {
        this.stderr += `\n${String(error)}`;
      },
    );
  }

  get exited(): boolean {
    return this.process.exitCode !== null || this.process.signalCode !== null;
  }

  /** The end of what it wrote on stderr. */
  get stderrTail(): string {
    return this.stderr;
  }

  /** The first line matching, among those printed so far or to come; rejects on exit or timeout. */
  async line(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    const found = await this.find(pattern, 0, timeoutMs);
    if (found !== undefined) return found;
    const why = this.ended
      ? `the process exited before printing ${pattern}`
      : `no line matching ${pattern} in ${timeoutMs} ms`;
    throw new Error(this.stderr ? `${why}; its stderr ends:\n${this.stderr}` : why);
  }

  /** Whether a line matching `pattern` is printed from now on within `timeoutMs`. */
  async nextLine(pattern: RegExp, timeoutMs: number): Promise<boolean> {
    return (await this.find(pattern, this.lines.length, timeoutMs)) !== undefined;
  }

  /** SIGSTOP: it keeps its connections and locks, and does nothing until `thaw()`. */
  freeze(): void {
    this.process.kill('SIGSTOP');
  }

  thaw(): void {
    this.process.kill('SIGCONT');
  }

  /** SIGKILL, frozen or not; resolves once it has exited. */
  async kill(): Promise<void> {
    if (this.exited) return;
    this.process.kill('SIGKILL');
    await this.exit;
  }

  /** The first line from index `from` on matching, or undefined once output ends or on timeout. */
  private find(pattern: RegExp, from: number, timeoutMs: number): Promise<string | undefined> {
    return new Promise((resolve) => {
      let next = from;
      const finish = (line: string | undefined) => {
        clearTimeout(timer);
        this.changes.off('change', check);
        resolve(line);
      };
      const check = () => {
        for (; next < this.lines.length; next++) {
          if (pattern.test(this.lines[next]!)) return finish(this.lines[next]);
        }
        if (this.ended) finish(undefined);
      };
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      this.changes.on('change', check);
      check();
    });
  }
}

/**
 * A Redis server of the test's own (nothing kept on disk), so stopping it disturbs nothing else.
 * `args` are more `redis-server` arguments, such as those of a cluster node.
 */
export class RedisServer {
  private server?: Child;

  constructor(
    readonly port: number,
    private readonly args: readonly string[] = [],
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return !!this.server && !this.server.exited;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.server = new Child(
      spawn(
        'redis-server',
        [
          '--port',
          String(this.port),
          '--bind',
          '127.0.0.1',
          '--save',
          '',
          '--appendonly',
          'no',
          ...this.args,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    );
    try {
      await this.server.line(/Ready to accept connections/, 30_000);
    } catch (error) {
      await this.server.kill();
      throw error;
    }
  }

  /**
   * SIGSTOP, then SIGCONT: while paused the server keeps its connections open and answers
   * nothing, as a Redis stuck behind a full network queue or a long fork.
   */
  pause(): void {
    this.server?.process.kill('SIGSTOP');
  }

  resume(): void {
    this.server?.process.kill('SIGCONT');
  }

  /** SIGKILL: the data goes with it, as when a Redis without persistence dies. */
  async kill(): Promise<void> {
    await this.server?.kill();
  }
}

/** What a worker process reads from its environment; `worker-process.ts` says what each does. */
export type WorkerSetting =
  | 'DATABASE_URL'
  | 'FILES_DIR'
  | 'QUEUE_PREFIX'
  | 'REDIS_URL'
  | 'LOCK_MS'
  | 'CONCURRENCY'
  | 'DB_POOL_SIZE'
  | 'RELAY_INTERVAL_MS'
  | 'RELAY_AFTER_MS'
  | 'PAUSE_AT'
  | 'STEP_DELAY_MS'
  | 'STEP_DELAY_SEED'
  | 'ANNOUNCE_STEPS'
  | 'EVENTS';

export type WorkerEnv = Partial<Record<WorkerSetting, string>>;

const workerScript = fileURLToPath(new URL('./worker-process.js', import.meta.url));

/**
 * A worker process over the web harness's database, files and queue (1 s locks unless `env`
 * says otherwise); `ready` resolves when it has booted (its `READY` line).
 */
export class WorkerProcess extends Child {
  readonly ready: Promise<void>;
  isReady = false;

  constructor(web: Harness, db: TestDatabase, env: WorkerEnv = {}, readyTimeoutMs = 60_000) {
    const settings: WorkerEnv = {
      DATABASE_URL: db.url!,
      FILES_DIR: web.directory,
      QUEUE_PREFIX: web.queue.opts.prefix!,
      LOCK_MS: '1000',
      ...env,
    };
    super(
      spawn(process.execPath, [workerScript], {
        env: { ...process.env, ...settings },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    this.ready = this.line(/^READY$/, readyTimeoutMs).then(() => {
      this.isReady = true;
    });
    // Awaited by whoever cares; one killed during boot never gets there.
    this.ready.catch(() => undefined);
  }
}

/** A worker process, once it is ready. */
export async function startWorker(
  web: Harness,
  db: TestDatabase,
  env: WorkerEnv = {},
): Promise<WorkerProcess> {
  const worker = new WorkerProcess(web, db, env);
  try {
    await worker.ready;
  } catch (error) {
    await worker.kill();
    throw error;
  }
  return worker;
}
