import {
  FileNotFoundError,
  describeHead,
  HEAD_BYTES,
  ImageStructure,
  type FileMetadata,
} from '../core/index.js';
import type { Storage } from './storage.interface.js';

/**
 * Metadata of a file already in a storage, from the storage itself: size from a stat, type and
 * dimensions from a ranged read of the head, so a large file is not read whole.
 */
export async function inspectStoredFile(
  storage: Storage,
  id: string,
  filename: string | null,
): Promise<FileMetadata> {
  const stat = await storage.stat(id);
  if (!stat) throw new FileNotFoundError(id);
  let head = Buffer.alloc(0);
  if (stat.size > 0) {
    const chunks: Buffer[] = [];
    const stream = await storage.open(id, { start: 0, end: Math.min(stat.size, HEAD_BYTES) - 1 });
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    head = Buffer.concat(chunks);
  }
  return { filename, size: stat.size, ...(await describeHead(head)) };
}

/**
 * Reads a stored file to its end through the structure check of its image type (PNG, JPEG,
 * GIF, WebP), throwing MalformedImageError if it is not one whole image; files of other types
 * are not read. It streams: memory stays flat whatever the file's size.
 */
export async function checkStoredStructure(storage: Storage, id: string): Promise<void> {
  const stream = await storage.open(id);
  const structure = new ImageStructure();
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      structure.write(chunk);
      if (structure.unchecked) return;
    }
    structure.end();
  } finally {
    stream.destroy();
  }
}
