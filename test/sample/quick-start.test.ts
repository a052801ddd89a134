import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { REDIS_URL } from '../support/harness.js';

const script = fileURLToPath(new URL('../../sample/quick-start.js', import.meta.url));
const run = promisify(execFile);

describe('the quick-start example (npm run example)', () => {
  let uploads: string;

  before(async () => {
    uploads = await mkdtemp(join(tmpdir(), 'quick-start-test-'));
  });

  after(async () => {
    await rm(uploads, { recursive: true, force: true });
  });

  it('attaches, promotes, replaces and removes, leaving no file behind', async () => {
    const env = {
      ...process.env,
      REDIS_URL,
      UPLOADS_DIR: uploads,
      QUEUE_PREFIX: `quickstart${randomBytes(4).toString('hex')}`,
    };
    const { stdout } = await run(process.execPath, [script], { env, timeout: 60_000 });
    const lines = stdout
      .split('\n')
      .filter((line) => /^(saved|promoted|replaced|removed)/.test(line));
    assert.equal(lines.length, 4, stdout);
    assert.match(lines[0]!, /^saved photo 1: image in "cache"/);
    assert.match(lines[1]!, /^promoted: image in "store" as photo\/1\/image\/[0-9a-f-]{36}\.png$/);
    assert.match(lines[2]!, /^replaced: image in "store" as photo\/1\/image\/[0-9a-f-]{36}\.png$/);
    assert.notEqual(lines[1]!.split(' as ')[1], lines[2]!.split(' as ')[1]);
    assert.match(stdout, /mimeType: 'image\/png',\s+width: 2,\s+height: 1/);
    const left = await readdir(uploads, { recursive: true, withFileTypes: true });
    assert.deepEqual(
      left.filter((entry) => entry.isFile()).map((entry) => entry.name),
      ['quick-start.sqlite'],
    );
  });

  it('says in one line how to start Redis when it is unreachable', async () => {
    const env = { ...process.env, REDIS_URL: 'redis://127.0.0.1:1', UPLOADS_DIR: uploads };
    const error = await run(process.execPath, [script], { env, timeout: 60_000 }).catch((e) => e);
    assert.equal(error.code, 1);
    assert.match(
      error.stderr,
      /^Redis is not reachable at 127\.0\.0\.1:1; start it .* or set REDIS_URL\.\n$/,
    );
  });
});
