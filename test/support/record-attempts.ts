/**
 * A module resolve hook (node:module `register`) that appends to the file named by
 * ATTEMPTS_LOG every bare specifier asked for (whether it resolves or not), then what it
 * resolved to: which packages an app tried to load, even those it could not find.
 */
import { appendFileSync } from 'node:fs';
import type { ResolveHook } from 'node:module';

const log = process.env.ATTEMPTS_LOG;

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  const bare = !/^(\.|\/|[a-z]+:)/.test(specifier);
  if (log && bare) appendFileSync(log, `asked ${specifier}\n`);
  const resolved = await nextResolve(specifier, context);
  if (log) appendFileSync(log, `resolved ${resolved.url}\n`);
  return resolved;
};
