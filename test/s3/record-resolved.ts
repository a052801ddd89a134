/**
 * A module resolve hook (node:module `register`) that appends every URL it resolves to the file
 * named by RESOLVED_LOG: which modules an import reaches, ES modules and CommonJS packages alike.
 */
import { appendFileSync } from 'node:fs';
import type { ResolveHook } from 'node:module';

const log = process.env.RESOLVED_LOG;

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  const resolved = await nextResolve(specifier, context);
  if (log) appendFileSync(log, `${resolved.url}\n`);
  return resolved;
};
