import { FileNotFoundError } from '../core/index.js';
import type { CopyMethod, Storage } from './storage.interface.js';

/**
 * Copies `sourceId` of `source` to `id` of `target` through this process: the way left when the
 * two storages share no cheaper one. The content type travels with the bytes.
 */
export async function streamCopy(
  source: Storage,
  sourceId: string,
  target: Storage,
  id: string,
): Promise<CopyMethod> {
  const stat = await source.stat(sourceId);
  if (!stat) throw new FileNotFoundError(sourceId);
  const stream = await source.open(sourceId);
  try {
    await target.upload(id, stream, { contentType: stat.contentType });
  } finally {
    // A failed upload may stop reading midway: release the source's file or connection.
    stream.destroy();
  }
  return 'stream';
}
