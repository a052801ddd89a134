import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { ATTACHMENTS_QUEUE } from '../../src/index.js';
import { REDIS_URL, redisConnection } from '../support/harness.js';
import type { HttpPlatform } from '../support/platforms.js';

export const SAMPLE_MAIN = fileURLToPath(new URL('../../sample/app/main.js', import.meta.url));

export interface SampleApp {
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  /** Everything the process printed so far, stdout and stderr. */
  output(): string;
  /** Stops the process (SIGTERM, as Ctrl-C would) and removes its BullMQ keys. */
  stop(): Promise<void>;
}

export interface SampleAppOptions {
  uploads: string;
  /** A postgres://, mysql:// or mariadb:// URL; SQLite in `uploads` when absent. */
  databaseUrl?: string;
  /** More environment, e.g. S3_BUCKET and S3_ENDPOINT; S3_* variables are unset otherwise. */
  env?: Record<string, string>;
  /** The HTTP adapter, as HTTP_PLATFORM tells the sample; Express when absent. */
  platform?: HttpPlatform;
}

/** The line the sample prints once it listens; S3 mode adds where the files are. */
export const LISTENING =
  /^Sample app listening on http:\/\/localhost:(\d+)\/(?: \(files in (.+)\))?$/m;

/**
 * Runs `node build/sample/app/main.js` as `npm run sample` does, on a free port, with its own
 * queue prefix so it shares Redis with no other test.
 */
export async function startSampleApp(options: SampleAppOptions): Promise<SampleApp> {
  const queuePrefix = `sample${randomBytes(4).toString('hex')}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: '0',
    UPLOADS_DIR: options.uploads,
    QUEUE_PREFIX: queuePrefix,
    REDIS_URL,
  };
  delete env.DATABASE_URL;
  env.HTTP_PLATFORM = options.platform ?? 'express';
  if (options.databaseUrl) env.DATABASE_URL = options.databaseUrl;
  for (const name of Object.keys(env)) if (name.startsWith('S3_')) delete env[name];
  Object.assign(env, options.env);
  const child = spawn(process.execPath, [SAMPLE_MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = once(child, 'exit');

  let deadline: NodeJS.Timeout | undefined;
  const port = await new Promise<string>((resolve, reject) => {
    // A start that hangs fails this test with what was printed, not the run at its timeout.
    deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`The sample app did not start within 60 s:\n${output}`));
    }, 60_000);
    child.stdout.on('data', () => {
      const match = LISTENING.exec(output);
      if (match) resolve(match[1]!);
    });
    void exited.then(([code]) => reject(new Error(`The sample app exited (${code}):\n${output}`)));
  }).finally(() => clearTimeout(deadline));

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      const queue = new Queue(ATTACHMENTS_QUEUE, {
        connection: redisConnection(),
        prefix: queuePrefix,
      });
      await queue.obliterate({ force: true });
      await queue.close();
    },
  };
}

/** Every file under `directory`, temporary ones included, relative to it. */
export async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true }).catch(
    (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? [] : Promise.reject(error)),
  );
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(directory, join(entry.parentPath, entry.name)))
    .sort();
}
