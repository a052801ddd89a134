import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const script = fileURLToPath(new URL('../support/untraced-boot-process.js', import.meta.url));
const hooks = new URL('../support/untraced-hooks.js', import.meta.url).href;

describe('OpenTelemetry is optional', () => {
  it('without @opentelemetry/api the module saves and promotes, and loads nothing of it', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'attempts-'));
    const log = join(folder, 'attempts.txt');
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', hooks, script], {
        env: { ...process.env, ATTEMPTS_LOG: log },
        timeout: 120_000,
      });
      const outcome = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
      assert.deepEqual(outcome, { promoted: true, required: [] });
      const lines = (await readFile(log, 'utf8')).split('\n').filter(Boolean);
      assert.ok(
        lines.some((line) => line.includes('/@nestjs/common/')),
        'the hook saw the packages',
      );
      const telemetry = lines.filter((line) => /@opentelemetry|bullmq-otel/.test(line));
      // One look at start, which finds nothing; then every step runs untraced.
      assert.deepEqual(telemetry, ['asked @opentelemetry/api']);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
