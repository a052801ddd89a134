import { after, before } from 'node:test';
import { attachmentEntities } from '../../src/index.js';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from './databases.js';
import { startHarness, type Harness, type HarnessOptions } from './harness.js';

export interface SuiteContext {
  db: TestDatabase;
  harness: Harness;
}

/**
 * Registers the hooks that give a `describe` block its own database (with the library's tables)
 * and attachments app, torn down afterwards. Read the fields inside tests, not at declaration.
 */
export function useHarness(
  kind: DatabaseKind,
  entities: (new (...args: never[]) => object)[],
  options: Omit<HarnessOptions, 'dataSource'> = {},
): SuiteContext {
  const context = {} as SuiteContext;
  before(async () => {
    context.db = await createTestDatabase(kind, [...entities, ...attachmentEntities]);
    context.harness = await startHarness({ ...options, dataSource: context.db.dataSource });
  });
  after(async () => {
    await context.harness?.close();
    await context.db?.close();
  });
  return context;
}
