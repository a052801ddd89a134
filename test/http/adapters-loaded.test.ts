import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const script = fileURLToPath(new URL('../support/loaded-adapters-process.js', import.meta.url));

/** The frameworks a process serving the module's routes on `platform` loaded. */
async function loadedOn(platform: string): Promise<{ express: number; fastify: number }> {
  const { stdout } = await promisify(execFile)(process.execPath, [script], {
    env: { ...process.env, HTTP_PLATFORM: platform },
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as { express: number; fastify: number };
}

describe('the HTTP adapter an app uses is the only one loaded', () => {
  it('loads no Fastify on Express', async () => {
    const loaded = await loadedOn('express');
    assert.ok(loaded.express > 0, 'the check sees Express itself');
    assert.equal(loaded.fastify, 0);
  });

  it('loads no Express on Fastify', async () => {
    const loaded = await loadedOn('fastify');
    assert.ok(loaded.fastify > 0, 'the check sees Fastify itself');
    assert.equal(loaded.express, 0);
  });
});
