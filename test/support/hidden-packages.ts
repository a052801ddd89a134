import { register } from 'node:module';

/**
 * Makes the packages `names` (and their subpaths) unresolvable in this process from now on: a
 * resolve hook answers as Node does for a package that is not installed.
 */
export function hidePackages(names: readonly string[]): void {
  const hook = `
const hidden = ${JSON.stringify(names)};
export async function resolve(specifier, context, next) {
  if (hidden.some((name) => specifier === name || specifier.startsWith(name + '/'))) {
    const error = new Error("Cannot find package '" + specifier + "'");
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
}
