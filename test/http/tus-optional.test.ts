import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const script = fileURLToPath(new URL('../support/tus-boot-process.js', import.meta.url));

/** What an app booted without the tus packages installed saw. */
async function bootWithoutTusPackages(tus: 'on' | 'off'): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(process.execPath, [script], {
    env: { ...process.env, TUS: tus },
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

describe('tus is optional', () => {
  it('boots and serves uploads without @tus/server when tus is off; its route answers 404', async () => {
    const outcome = await bootWithoutTusPackages('off');
    assert.equal(outcome.upload, 201, JSON.stringify(outcome));
    assert.equal(outcome.tus, 404);
    assert.deepEqual(outcome.tusBody, {
      statusCode: 404,
      code: 'http_error',
      message: 'Resumable uploads (tus) are not enabled',
    });
  });

  it('fails at boot, saying what to install, when tus is on and @tus/server is missing', async () => {
    const outcome = await bootWithoutTusPackages('on');
    assert.match(
      String(outcome.error),
      /^AttachmentConfigurationError: AttachmentsModule: `upload\.tus` is enabled, but `@tus\/server` and `@tus\/file-store` are not both installed; run `npm install @tus\/server @tus\/file-store`/,
    );
  });
});
