/**
 * The parent's side of one drain: forks a worker process on a backlog, reads the database's
 * commit counter when the process is booted and again when it has drained the backlog, and
 * makes sure the process is gone afterwards, killed if it does not exit in time.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, DrainMeasure, ParentMessage, WorkerRunConfig } from './protocol.js';

const script = fileURLToPath(new URL('./worker-process.js', import.meta.url));
const READY_TIMEOUT_MS = 90_000;
const EXIT_TIMEOUT_MS = 20_000;

export interface Drain extends DrainMeasure {
  /** Transactions committed in the database during the drain, the flushes' own taken off. */
  commits: number;
}

type MessageOf<T extends ChildMessage['type']> = Extract<ChildMessage, { type: T }>;

/** The child's messages, taken in order of need; an `error` message or an exit fails the wait. */
function inbox(child: ChildProcess, side: string) {
  const received: ChildMessage[] = [];
  let failure: Error | undefined;
  let wake = () => {};
  child.on('message', (message: ChildMessage) => {
    if (message.type === 'error') failure = new Error(`${side} worker: ${message.message}`);
    else received.push(message);
    wake();
  });
  child.on('exit', (code, signal) => {
    failure ??= new Error(`${side} worker exited (${signal ?? code})`);
    wake();
  });
  return async function next<T extends ChildMessage['type']>(type: T, timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = received.findIndex((message) => message.type === type);
      if (index >= 0) return received.splice(index, 1)[0] as MessageOf<T>;
      if (failure) throw failure;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${side} worker: no "${type}" within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  };
}

function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export async function drainInChild(
  config: WorkerRunConfig,
  workIds: string[],
  commitCount: () => Promise<number>,
): Promise<Drain> {
  const child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = inbox(child, config.side);
  const tell = (message: ParentMessage) => child.send(message);
  try {
    tell({ type: 'start', config, workIds });
    await next('ready', READY_TIMEOUT_MS);
    const before = await commitCount();
    tell({ type: 'go' });
    // The child times itself out first, and says where it stood.
    const done = await next('done', config.timeoutMs + 15_000);
    const after = await commitCount();
    if (!(await exited(child, EXIT_TIMEOUT_MS))) {
      throw new Error(`${config.side} worker did not exit within ${EXIT_TIMEOUT_MS} ms`);
    }
    const { elapsedMs, cpuMs, flushCommits } = done;
    return { elapsedMs, cpuMs, flushCommits, commits: after - before - flushCommits };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
