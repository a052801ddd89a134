import Module, { register } from 'node:module';

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

/** The part of Node's CommonJS loader that resolves what `require` is asked for. */
interface ResolvingLoader {
  _resolveFilename(request: string, ...rest: unknown[]): string;
}

/**
 * The same for `require` (and `createRequire`), which the resolve hooks of `register` do not
 * reach on Node 20. Returns the list of hidden names that were asked for since, as it grows.
 */
export function hidePackagesFromRequire(names: readonly string[]): string[] {
  const asked: string[] = [];
  const loader = Module as unknown as ResolvingLoader;
  const resolve = loader._resolveFilename.bind(loader);
  loader._resolveFilename = (request, ...rest) => {
    if (names.some((name) => request === name || request.startsWith(`${name}/`))) {
      asked.push(request);
      throw Object.assign(new Error(`Cannot find module '${request}'`), {
        code: 'MODULE_NOT_FOUND',
      });
    }
    return resolve(request, ...rest);
  };
  return asked;
}
