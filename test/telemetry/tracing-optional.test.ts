import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const script = fileURLToPath(new URL('../support/untraced-boot-process.js', import.meta.url));
const hooks = new URL('../support/untraced-hooks.js', import.meta.url).href;
const root = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The declaration files that an entry point's declarations import, each with the package
 * specifiers it imports: what an app's compiler reads when it uses that entry point.
 */
async function declarationsOf(entry: string): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  const queue = [entry];
  for (let file = queue.shift(); file; file = queue.shift()) {
    if (found.has(file)) continue;
    const text = await readFile(file, 'utf8');
    const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]!);
    found.set(
      file,
      specifiers.filter((specifier) => !specifier.startsWith('.')),
    );
    for (const specifier of specifiers.filter((name) => name.startsWith('.'))) {
      queue.push(resolve(dirname(file), specifier.replace(/\.js$/, '.d.ts')));
    }
  }
  return found;
}

describe('OpenTelemetry is optional', () => {
  it('the declarations of every entry point name none of its types', async () => {
    const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
      exports: Record<string, { types: string }>;
    };
    const entries = Object.values(manifest.exports)
      .map(({ types }) => types)
      .filter((types) => types.startsWith('./dist/'))
      .map((types) => join(root, 'build', types.replace('./dist/', 'src/')));
    assert.ok(entries.length >= 5, 'the entry points were read');
    for (const entry of entries) {
      const files = await declarationsOf(entry);
      if (entry.endsWith('/src/index.d.ts'))
        assert.ok(files.size > 50, 'the imports were followed');
      for (const [file, packages] of files) {
        const named = packages.filter((name) => name.startsWith('@opentelemetry/'));
        assert.deepEqual(named, [], `${file}, reached from ${entry}`);
      }
    }
  });

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
