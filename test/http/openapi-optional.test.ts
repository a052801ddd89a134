import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The declarations compiled from src/, as an app's compiler reads them. */
const DECLARATIONS = fileURLToPath(new URL('../../src/', import.meta.url));

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

  it("no declaration of the library names @nestjs/swagger's types", async () => {
    const files = (await readdir(DECLARATIONS, { recursive: true })).filter((name) =>
      name.endsWith('.d.ts'),
    );
    assert.ok(files.includes('http/openapi-swagger.d.ts'), 'the declarations were read');
    const naming: string[] = [];
    for (const file of files) {
      const text = await readFile(`${DECLARATIONS}${file}`, 'utf8');
      if (/(from|import\()\s*['"]@nestjs\/swagger/.test(text)) naming.push(file);
    }
    assert.deepEqual(naming, []);
  });
});
