import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Streams a file into a response and closes the file however the response ends. A client that
 * closes its connection first (a cancelled video, a closed tab, a hang-up right after the last
 * byte) has done nothing wrong, so that resolves. A file that fails while the client is still
 * there rejects, for the error filter to log and cut the answer short.
 */
export async function streamToClient(body: Readable, response: ServerResponse): Promise<void> {
  // Whichever ended first: once one side goes, pipeline() tears down the other, with an error.
  let first: 'client' | 'file' | undefined = response.destroyed ? 'client' : undefined;
  body.once('error', () => (first ??= 'file'));
  body.once('close', () => {
    if (!body.readableEnded) first ??= 'file';
  });
  response.once('close', () => {
    if (!response.writableFinished) first ??= 'client';
  });
  try {
    await pipeline(body, response);
  } catch (error) {
    if (first !== 'client') throw error;
  }
}
