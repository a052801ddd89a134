import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const script = fileURLToPath(new URL('../support/openapi-hidden-process.js', import.meta.url));

describe('@nestjs/swagger is optional', () => {
  it('an app without it boots and uploads; the library asked for it once and loaded none of it', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [script], { timeout: 60_000 });
    const outcome = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    assert.deepEqual(
      outcome,
      { upload: 201, token: 'string', asked: ['@nestjs/swagger'], loaded: [] },
      JSON.stringify(outcome),
    );
  });
});
