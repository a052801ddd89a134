import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { FileRef, Storage } from '../../src/index.js';

/** `data` cut into chunks of `size` bytes (the last one shorter), as a stream would hand it. */
export function chunksOf(data: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < data.length; at += size) chunks.push(data.subarray(at, at + size));
  return chunks;
}

/**
 * A sink that only counts what reaches it (what a storage would have written), so large inputs
 * are never held in memory by the test.
 */
export function countingSink(): { bytes: number; stream: Writable } {
  const sink = { bytes: 0, stream: undefined as unknown as Writable };
  sink.stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      sink.bytes += chunk.length;
      done();
    },
  });
  return sink;
}

/** The bytes of a file as `storages` hold it (a derivative, say), read whole: small files only. */
export async function storedBytes(
  storages: Record<string, Storage>,
  file: FileRef | undefined,
): Promise<Buffer> {
  assert.ok(file, 'the file is named in the column');
  const chunks: Buffer[] = [];
  for await (const chunk of await storages[file.storage]!.open(file.id)) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The same, as UTF-8 text. */
export async function storedText(
  storages: Record<string, Storage>,
  file: FileRef | undefined,
): Promise<string> {
  return (await storedBytes(storages, file)).toString('utf8');
}
