import type { Storage } from './storage.interface.js';

/**
 * Why the cache storage shares files with another configured storage, or undefined when it
 * does not. The cache sweep lists the cache and deletes its expired files, so a storage at the
 * same location, inside it or around it would lose files that records still name.
 */
export function cacheOverlap(
  storages: Readonly<Record<string, Storage>>,
  cacheName: string,
): string | undefined {
  const cache = storages[cacheName];
  if (!cache) return undefined;
  for (const [name, storage] of Object.entries(storages)) {
    if (name === cacheName) continue;
    if (storage === cache) return `the cache storage "${cacheName}" is also "${name}"`;
    const [inner, outer] = [folderOf(cache), folderOf(storage)];
    if (inner && outer && (inner.startsWith(outer) || outer.startsWith(inner))) {
      return (
        `the cache storage "${cacheName}" (${inner}) overlaps "${name}" (${outer}): ` +
        `the cache sweep would delete files of "${name}"`
      );
    }
  }
  return undefined;
}

/** With its trailing slash, so that `/x/cache` does not look like the parent of `/x/cache2`. */
function folderOf(storage: Storage): string | undefined {
  const { location } = storage;
  if (!location) return undefined;
  return location.endsWith('/') ? location : `${location}/`;
}
