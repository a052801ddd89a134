import { Readable } from 'node:stream';
import type { Storage } from '../storage/index.js';

/** Ids every storage must refuse, whatever the method. */
export const UNSAFE_IDS: readonly string[] = [
  '../x',
  'a/../../x',
  '/etc/passwd',
  'a\\b',
  'a\u0000b',
  '',
  'a//b',
  '.uploading/x',
];

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** A byte stream that yields `chunks` asynchronously, then fails if `error` is given. */
export function streamOf(chunks: readonly Buffer[], error?: Error): Readable {
  async function* generate(): AsyncGenerator<Buffer> {
    for (const chunk of chunks) {
      await new Promise((resolve) => setImmediate(resolve));
      yield chunk;
    }
    if (error) throw error;
  }
  return Readable.from(generate(), { objectMode: false });
}

export async function listIds(storage: Storage, prefix?: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const entry of storage.list(prefix)) ids.push(entry.id);
  return ids.sort();
}
