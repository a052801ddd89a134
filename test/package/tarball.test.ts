import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));

interface Manifest {
  license: string;
  exports: Record<string, { types: string; default: string }>;
}

/** What `npm pack` ships (its prepack script builds dist/ first), unpacked. */
describe('the published package', () => {
  let directory: string;
  let unpacked: string;
  let shipped: Set<string>;

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'attachments-pack-'));
    await run('npm', ['pack', '--silent', '--pack-destination', directory], { cwd: root });
    const [tarball] = (await readdir(directory)).filter((name) => name.endsWith('.tgz'));
    assert.ok(tarball, 'npm pack wrote a tarball');
    await run('tar', ['-xzf', join(directory, tarball), '-C', directory]);
    unpacked = join(directory, 'package');
    const files = await readdir(unpacked, { recursive: true, withFileTypes: true });
    shipped = new Set(
      files
        .filter((entry) => entry.isFile())
        .map((entry) => posix.relative(unpacked, join(entry.parentPath, entry.name))),
    );
  });

  after(() => rm(directory, { recursive: true, force: true }));

  it('ships the MIT license that package.json declares', async () => {
    const manifest = JSON.parse(await readFile(join(unpacked, 'package.json'), 'utf8')) as Manifest;
    assert.equal(manifest.license, 'MIT');
    const license = await readFile(join(unpacked, 'LICENSE'), 'utf8');
    assert.match(license, /^MIT License\n/);
    assert.match(license, /Permission is hereby granted, free of charge/);
  });

  it('ships every file that an entry point names', async () => {
    const manifest = JSON.parse(await readFile(join(unpacked, 'package.json'), 'utf8')) as Manifest;
    for (const [entry, target] of Object.entries(manifest.exports)) {
      for (const file of [target.types, target.default]) {
        assert.ok(shipped.has(posix.normalize(file)), `${entry} names ${file}, not shipped`);
      }
    }
  });

  it('ships the sources that its source maps point at, and no tests', async () => {
    const maps = [...shipped].filter((file) => file.endsWith('.map'));
    assert.ok(
      maps.some((file) => file.endsWith('.js.map')),
      'JavaScript maps are shipped',
    );
    assert.ok(
      maps.some((file) => file.endsWith('.d.ts.map')),
      'declaration maps are shipped',
    );
    for (const map of maps) {
      const { sources, sourceRoot = '' } = JSON.parse(
        await readFile(join(unpacked, map), 'utf8'),
      ) as { sources: string[]; sourceRoot?: string };
      for (const source of sources) {
        const file = posix.normalize(posix.join(dirname(map), sourceRoot, source));
        assert.ok(shipped.has(file), `${map} points at ${file}, which is not shipped`);
      }
    }
    const stray = [...shipped].filter((file) => /^(test|build|sample|bench)\//.test(file));
    assert.deepEqual(stray, []);
  });
});
