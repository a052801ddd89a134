import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Lines without indentation, so a block quoted from inside a function still matches. */
const normalize = (text: string) =>
  text
    .split('\n')
    .map((line) => line.trim())
    .join('\n')
    .trim();

describe('README.md', () => {
  it('shows only TypeScript that exists, verbatim, in the sample or the tests', async () => {
    const readme = await readFile(`${root}README.md`, 'utf8');
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
    assert.ok(blocks.length >= 4, 'the quick start has its code blocks');
    // Blocks come from the sample (run by its tests) or from the tests themselves.
    const files = [
      ...(await readdir(`${root}sample`, { recursive: true })).map((name) => `sample/${name}`),
      ...(await readdir(`${root}test`, { recursive: true })).map((name) => `test/${name}`),
    ].filter((name) => name.endsWith('.ts'));
    const sources = await Promise.all(
      files.map(async (name) => normalize(await readFile(`${root}${name}`, 'utf8'))),
    );
    for (const block of blocks) {
      assert.ok(
        sources.some((source) => source.includes(normalize(block))),
        `README block not found in sample/ or test/:\n${block}`,
      );
    }
  });

  it('gives the test command that package.json defines and CI runs', async () => {
    const readme = await readFile(`${root}README.md`, 'utf8');
    const ci = await readFile(`${root}.ci/run`, 'utf8');
    const pkg = JSON.parse(await readFile(`${root}package.json`, 'utf8')) as {
      scripts: Record<string, string>;
    };
    assert.match(readme, /^npm test\b/m);
    assert.match(readme, /^npm install && npm run sample\b/m);
    assert.match(readme, /^npm install && npm run example\b/m);
    assert.match(ci, /^npm test$/m);
    assert.ok(pkg.scripts.test && pkg.scripts.example && pkg.scripts.sample);
  });
});
