import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** The compiled tree: build/, holding src/, sample/ and test/. */
const BUILD = new URL('../../', import.meta.url);
const RECORDER = new URL('./record-resolved.js', import.meta.url).href;

/** Every URL a fresh Node process resolves while it imports `entry` (relative to build/). */
async function resolvedWhileImporting(entry: string): Promise<string[]> {
  const folder = await mkdtemp(join(tmpdir(), 'resolved-'));
  const log = join(folder, 'urls.txt');
  const register = `import { register } from 'node:module'; register(${JSON.stringify(RECORDER)});`;
  try {
    await run(
      process.execPath,
      [
        '--import',
        `data:text/javascript,${encodeURIComponent(register)}`,
        '--input-type=module',
        '-e',
        `await import(${JSON.stringify(new URL(entry, BUILD).href)});`,
      ],
      { env: { ...process.env, RESOLVED_LOG: log } },
    );
    return (await readFile(log, 'utf8')).split('\n').filter(Boolean);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

const awsSdk = (urls: string[]): string[] => urls.filter((url) => url.includes('/@aws-sdk/'));

describe('the AWS SDK is optional', () => {
  it('the main entry loads no @aws-sdk module', async () => {
    const urls = await resolvedWhileImporting('src/index.js');
    assert.ok(
      urls.some((url) => url.includes('/@nestjs/common/')),
      'the recorder sees packages',
    );
    assert.deepEqual(awsSdk(urls), []);
  });

  it('nor does the testing entry', async () => {
    assert.deepEqual(awsSdk(await resolvedWhileImporting('src/testing/index.js')), []);
  });

  it('the s3 entry loads the SDK', async () => {
    const loaded = awsSdk(await resolvedWhileImporting('src/s3/index.js'));
    for (const name of ['client-s3', 'lib-storage', 's3-request-presigner']) {
      assert.ok(
        loaded.some((url) => url.includes(`/@aws-sdk/${name}/`)),
        name,
      );
    }
  });

  it('the sample app on folders loads no @aws-sdk module until S3 mode asks for it', async () => {
    assert.deepEqual(awsSdk(await resolvedWhileImporting('sample/app/app.module.js')), []);
  });
});

describe('@nestjs/terminus is optional', () => {
  const terminus = (urls: string[]) => urls.filter((url) => url.includes('/@nestjs/terminus/'));

  it('the main entry does not load it, although it exports AttachmentsHealth', async () => {
    assert.deepEqual(terminus(await resolvedWhileImporting('src/index.js')), []);
  });

  it('the health entry loads it', async () => {
    assert.notDeepEqual(terminus(await resolvedWhileImporting('src/health.js')), []);
  });
});
