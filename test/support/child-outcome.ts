import type { TestDatabase } from './databases.js';

/**
 * The end of a child process that boots the module: runs `run` over `db`, then prints one JSON
 * line, what `run` returned or the error it failed with, and exits.
 */
export async function printOutcome(
  db: TestDatabase,
  run: () => Promise<Record<string, unknown>>,
): Promise<void> {
  let outcome: Record<string, unknown>;
  try {
    outcome = await run();
  } catch (error) {
    outcome = { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  } finally {
    await db.close();
  }
  // A boot that failed leaves its connections open, as it would in an app that then exits.
  process.stdout.write(`${JSON.stringify(outcome)}\n`, () => process.exit(0));
}
