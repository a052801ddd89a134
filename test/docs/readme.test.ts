import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  entryPoints,
  identifiersOf,
  importsOf,
  moduleName,
  splitImports,
  type Binding,
} from './readme-imports.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Lines without indentation, so a block quoted from inside a function still matches. */
const normalize = (text: string) =>
  text
    .split('\n')
    .map((line) => line.trim())
    .join('\n')
    .trim();

/** The README's ```ts blocks. */
const readmeBlocks = async () =>
  [...(await readFile(`${root}README.md`, 'utf8')).matchAll(/```ts\n([\s\S]*?)```/g)].map(
    (match) => match[1]!,
  );

/** The sample's and the tests' TypeScript files, each with its text and its imports. */
async function quotableFiles() {
  const pkg = JSON.parse(await readFile(`${root}package.json`, 'utf8')) as {
    name: string;
    exports: Record<string, { default: string }>;
  };
  const entries = entryPoints(pkg.name, pkg.exports);
  const names = [
    ...(await readdir(`${root}sample`, { recursive: true })).map((name) => `sample/${name}`),
    ...(await readdir(`${root}test`, { recursive: true })).map((name) => `test/${name}`),
  ].filter((name) => name.endsWith('.ts'));
  return Promise.all(
    names.map(async (name) => {
      const text = await readFile(`${root}${name}`, 'utf8');
      const rename = (specifier: string) => moduleName(specifier, `${root}${name}`, root, entries);
      return { name, text: normalize(text), imports: importsOf(text, rename) };
    }),
  );
}

const key = (binding: Binding) =>
  `${binding.imported === binding.local ? binding.local : `${binding.imported} as ${binding.local}`} from '${binding.module}'`;

/** The README's ```js blocks: browser code, such as Uppy's setup. */
const readmeScriptBlocks = async () =>
  [...(await readFile(`${root}README.md`, 'utf8')).matchAll(/```js\n([\s\S]*?)```/g)].map(
    (match) => match[1]!,
  );

/** The tests' page scripts, which the browser tests bundle and run. */
async function pageScripts() {
  const names = (await readdir(`${root}test`, { recursive: true }))
    .filter((name) => name.endsWith('.js'))
    .map((name) => `test/${name}`);
  return Promise.all(
    names.map(async (name) => ({
      name,
      text: normalize(await readFile(`${root}${name}`, 'utf8')),
    })),
  );
}

describe('README.md', () => {
  it('shows only browser code that a test runs, verbatim with its imports', async () => {
    const blocks = await readmeScriptBlocks();
    assert.ok(blocks.length >= 2, "Uppy's setups are shown");
    const scripts = await pageScripts();
    for (const block of blocks) {
      assert.ok(
        scripts.some((script) => script.text.includes(normalize(block))),
        `README block not found in the tests' page scripts (test/**/*.js):\n${block}`,
      );
    }
  });

  it('shows only TypeScript that exists, verbatim, in the sample or the tests', async () => {
    const blocks = await readmeBlocks();
    assert.ok(blocks.length >= 4, 'the quick start has its code blocks');
    const files = await quotableFiles();
    for (const block of blocks) {
      const { code } = splitImports(block);
      assert.ok(
        files.some((file) => file.text.includes(normalize(code))),
        `README block not found in sample/ or test/:\n${block}`,
      );
    }
  });

  it('shows in each block the imports its code uses, as the file it comes from has them', async () => {
    const files = await quotableFiles();
    for (const block of await readmeBlocks()) {
      const { imports, code } = splitImports(block);
      const shown = importsOf(imports, (specifier) => specifier).map(key);
      const used = identifiersOf(code);
      // The block must match one of the files that hold its code; say what the first lacks.
      const problems = files
        .filter((file) => file.text.includes(normalize(code)))
        .map((file) => {
          const has = new Set(file.imports.map(key));
          const needed = file.imports.filter((binding) => used.has(binding.local)).map(key);
          return [
            ...needed.filter((binding) => !shown.includes(binding)).map((b) => `missing ${b}`),
            ...shown.filter((binding) => !has.has(binding)).map((b) => `${file.name} lacks ${b}`),
            ...needed.filter((b) => b.includes("'internal:")).map((b) => `not public: ${b}`),
          ];
        });
      assert.ok(
        problems.some((list) => list.length === 0),
        `README block:\n${block}\n${problems[0]?.join('\n')}`,
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
    assert.match(ci, /^\s*npm test$/m);
    assert.ok(pkg.scripts.test && pkg.scripts.example && pkg.scripts.sample);
  });
});
