/** The parent's side of `shutdown-process.ts`: start it, stop it by SIGTERM, see how it ended. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ClusterNode } from 'ioredis';
import { Child } from './processes.js';
import { within } from './within.js';

const script = fileURLToPath(new URL('./shutdown-process.js', import.meta.url));

export type ShutdownStage = 'destroy' | 'before-shutdown';

export interface ShutdownProcessOptions {
  databaseUrl: string;
  queuePrefix: string;
  /** One Redis, or the startup nodes of a cluster. */
  redis: { url: string } | { cluster: ClusterNode[] };
  /**
   * Hold the shutdown until `release()`: before the worker closes (`destroy`), or after it
   * closed and before the queue closes (`before-shutdown`).
   */
  holdShutdown?: ShutdownStage;
  /** The test app's files directory, to run its work; with `holdJob`, a promotion waits. */
  files?: { directory: string; holdJob?: boolean };
}

export class ShutdownProcess extends Child {
  constructor(options: ShutdownProcessOptions) {
    super(
      spawn(process.execPath, [script], {
        env: {
          ...process.env,
          DATABASE_URL: options.databaseUrl,
          QUEUE_PREFIX: options.queuePrefix,
          ...('url' in options.redis
            ? { REDIS_URL: options.redis.url }
            : { REDIS_CLUSTER: JSON.stringify(options.redis.cluster) }),
          HOLD_SHUTDOWN: options.holdShutdown ?? '',
          FILES_DIR: options.files?.directory ?? '',
          HOLD_JOB: options.files?.holdJob ? '1' : '',
        },
        stdio: [options.holdShutdown ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      }),
    );
  }

  /** Booted, its worker started. */
  async ready(): Promise<void> {
    await this.line(/^READY$/);
  }

  /** As an orchestrator stops it. */
  terminate(): void {
    this.process.kill('SIGTERM');
  }

  /** Resolves once the shutdown has reached `stage`. */
  async reached(stage: ShutdownStage): Promise<void> {
    await this.line(new RegExp(`^SHUTTING DOWN ${stage}$`));
  }

  /** Lets a held shutdown go on. */
  release(): void {
    this.process.stdin!.end('go\n');
  }

  /**
   * Waits, within a bound that only a hang reaches, for the process to end by itself, and
   * returns how: `{ code: 0, signal: null }` when nothing was left to keep it alive.
   */
  async waitForExit(
    boundMs = 60_000,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    try {
      await within(boundMs, this.exit, 'the stopped process to exit');
    } catch (error) {
      await this.kill();
      throw new Error(
        `${String(error)}; it printed:\n${this.lines.join('\n')}\nits stderr ends:\n${this.stderrTail}`,
      );
    }
    return { code: this.process.exitCode, signal: this.process.signalCode };
  }
}
