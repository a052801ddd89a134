import { spawn, type ChildProcess } from 'node:child_process';
import {
  PreviewFailedError,
  PreviewTimeoutError,
  PreviewToolMissingError,
} from './preview.errors.js';

/** A program of the system that a preview runs. */
export interface ExternalTool {
  /** Its usual name, for messages: `pdftoppm`. */
  name: string;
  /** A path, or a name looked up on PATH. */
  command: string;
  /** How to get it, for the message when it is missing: `Debian: apt-get install ffmpeg`. */
  install: string;
}

export interface ToolRun {
  /** Where it runs: the preview's private folder, so that it is given (and says) short names. */
  cwd: string;
  /** Milliseconds before the tool is killed with SIGKILL. */
  timeout: number;
  /** Bytes of standard output kept; a tool printing more is killed and fails. Default 1 MiB. */
  maxStdout?: number;
}

/** What the tool printed on standard error is kept up to this, for the failure's message. */
const STDERR_KEPT = 16 * 1024;
/** Of that, the message quotes at most this many characters. */
const MESSAGE_CHARS = 600;

/**
 * Runs `tool` with `args` (no shell: the arguments reach it as they are) and resolves with its
 * standard output once it exits with 0. On timeout its process group is killed with SIGKILL,
 * and it settles only after the process is gone and reaped, so a timeout never leaves it
 * running. Output is captured up to a bound, so a tool that
 * prints without end costs no more memory than that.
 */
export function runTool(
  tool: ExternalTool,
  args: readonly string[],
  run: ToolRun,
): Promise<Buffer> {
  const { cwd, timeout, maxStdout = 1024 * 1024 } = run;
  return new Promise((resolve, reject) => {
    const child = spawn(tool.command, args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: toolEnvironment(),
      // A group of its own, so a kill reaches whatever it started too (a wrapper's child).
      detached: true,
    });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = '';
    let ended: 'timeout' | 'stdout' | undefined;
    const kill = (why: 'timeout' | 'stdout') => {
      ended ??= why;
      killGroup(child);
      // 'close' waits for the pipes, which a process outside the group could hold open.
      child.stdout.destroy();
      child.stderr.destroy();
    };
    const timer = setTimeout(() => kill('timeout'), timeout);
    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxStdout) kill('stdout');
      else stdout.push(chunk);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < STDERR_KEPT) stderr += chunk.slice(0, STDERR_KEPT - stderr.length);
    });
    child.on('error', (error) => {
      // Without a pid the process never existed (ENOENT, EACCES): 'close' may not follow.
      if (child.pid !== undefined) return;
      clearTimeout(timer);
      reject(new PreviewToolMissingError(tool.name, tool.command, tool.install, { cause: error }));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (child.pid === undefined) return;
      if (ended === 'timeout') reject(new PreviewTimeoutError(tool.name, timeout));
      else if (ended === 'stdout') {
        reject(new PreviewFailedError(`${tool.name} printed more than ${maxStdout} bytes`));
      } else if (code !== 0) {
        const status = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        const said = toolMessage(stderr);
        reject(new PreviewFailedError(`${tool.name} ${status}${said ? `: ${said}` : ''}`));
      } else resolve(Buffer.concat(stdout));
    });
  });
}

function killGroup(child: ChildProcess): void {
  // Not once it has exited: its pid, and so its group's id, may already be another's.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

/**
 * What the tools may see of the environment: enough to find programs, fonts and a cache, and
 * none of the app's secrets (database URLs, cloud keys), since they read files from users.
 * Messages are untranslated, so they read the same in every error report.
 */
const PASSED_ON = [
  'PATH',
  'HOME',
  'TMPDIR',
  'XDG_CACHE_HOME',
  'FONTCONFIG_FILE',
  'FONTCONFIG_PATH',
];

function toolEnvironment(): NodeJS.ProcessEnv {
  const passed = PASSED_ON.filter((name) => process.env[name] !== undefined).map(
    (name) => [name, process.env[name]] as const,
  );
  return { ...Object.fromEntries(passed), LC_ALL: 'C' };
}

/** The tool's distinct lines, in order, on one line: tools often repeat themselves. */
function toolMessage(stderr: string): string {
  const lines = [...new Set(stderr.split(/\r?\n/).map((line) => line.trim()))].filter(Boolean);
  const text = lines.join('; ');
  return text.length > MESSAGE_CHARS ? `${text.slice(0, MESSAGE_CHARS)}…` : text;
}
