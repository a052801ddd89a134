import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));

/**
 * The folders of src/, bottom first. A file may import from its own folder, or from a folder
 * lower in this list, and from another folder only through that folder's index.ts.
 */
export const LAYERS = [
  ['core'],
  ['storage'],
  ['s3', 'testing'],
  ['config'],
  ['telemetry'],
  ['events'],
  ['derivatives'],
  ['persistence'],
  ['outbox'],
  ['lifecycle'],
  ['work'],
  ['attaching'],
  ['http'],
  ['.'], // attachments.module.ts and index.ts, the entry point
] as const;

const rank = new Map<string, number>(
  LAYERS.flatMap((folders, index) => folders.map((folder) => [folder, index] as const)),
);

export interface ImportEdge {
  from: string;
  to: string;
  line: number;
}

/** Relative imports of every TypeScript file of src/, as paths relative to src/. */
export async function sourceImports(root = SRC): Promise<ImportEdge[]> {
  const files = (await readdir(root, { recursive: true })).filter((name) => name.endsWith('.ts'));
  const edges: ImportEdge[] = [];
  for (const file of files) {
    const lines = (await readFile(join(root, file), 'utf8')).split('\n');
    lines.forEach((text, index) => {
      for (const match of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
        const target = normalize(join(dirname(file), match[1]!)).replace(/\.js$/, '.ts');
        edges.push({
          from: file.split(sep).join('/'),
          to: target.split(sep).join('/'),
          line: index + 1,
        });
      }
    });
  }
  return edges;
}

const folderOf = (path: string) => (path.includes('/') ? path.split('/')[0]! : '.');

/** What is wrong with one import, or null. */
export function violation({ from, to }: ImportEdge): string | null {
  const source = folderOf(from);
  const target = folderOf(to);
  if (source === target) return null;
  const [sourceRank, targetRank] = [rank.get(source), rank.get(target)];
  if (sourceRank === undefined) return `${from} is in a folder with no layer (${source})`;
  if (targetRank === undefined) return `${to} is in a folder with no layer (${target})`;
  if (targetRank > sourceRank) return `${source}/ imports ${target}/, a layer above it`;
  if (targetRank === sourceRank) return `${source}/ and ${target}/ are side by side`;
  const door = target === '.' ? null : `${target}/index.ts`;
  if (door && to !== door) return `${from} reaches past the door of ${target}/ (use ${door})`;
  return null;
}

describe('the layers of src/', () => {
  it('point one way, down, and enter another folder only through its index.ts', async () => {
    const edges = await sourceImports();
    assert.ok(edges.length > 100, 'the imports were read');
    const wrong = edges
      .map((edge) => ({ edge, why: violation(edge) }))
      .filter((entry) => entry.why)
      .map(({ edge, why }) => `src/${edge.from}:${edge.line}: ${why}`);
    assert.deepEqual(wrong, [], `imports that break the layers:\n${wrong.join('\n')}`);
  });

  it('names a layer for every folder of src/', async () => {
    const folders = (await readdir(SRC, { withFileTypes: true }))
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    for (const folder of folders) assert.ok(rank.has(folder), `src/${folder}/ has no layer`);
  });

  it('catches a backwards import and a reach past a door', () => {
    assert.match(
      violation({ from: 'core/x.ts', to: 'work/index.ts', line: 1 }) ?? '',
      /a layer above/,
    );
    assert.match(
      violation({ from: 'work/x.ts', to: 'outbox/work-outbox.service.ts', line: 1 }) ?? '',
      /door/,
    );
    assert.equal(violation({ from: 'work/x.ts', to: 'outbox/index.ts', line: 1 }), null);
    assert.equal(violation({ from: 'work/a.ts', to: 'work/handlers/b.ts', line: 1 }), null);
    assert.equal(relative('a', 'a'), '');
  });
});
