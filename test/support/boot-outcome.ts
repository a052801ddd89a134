import type { TestDatabase } from './databases.js';
import { startHarness, type Harness, type HarnessOptions } from './harness.js';

/**
 * For a child process that boots the module: boots it over `db`, runs `scenario`, and prints
 * what it returned (or the error the boot or the scenario failed with) as one JSON line, the
 * parent's to read; then closes everything and exits.
 */
export async function printBootOutcome(
  db: TestDatabase,
  options: Omit<HarnessOptions, 'dataSource'>,
  scenario: (harness: Harness) => Promise<Record<string, unknown>>,
): Promise<void> {
  let outcome: Record<string, unknown>;
  try {
    const harness = await startHarness({ ...options, dataSource: db.dataSource });
    try {
      outcome = await scenario(harness);
    } finally {
      await harness.close();
    }
  } catch (error) {
    outcome = { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  } finally {
    await db.close();
  }
  // A boot that failed leaves its connections open, as it would in an app that then exits.
  process.stdout.write(`${JSON.stringify(outcome)}\n`, () => process.exit(0));
}
