import type { Readable } from 'node:stream';
import type { FileMetadata } from '../core/index.js';

/** What a derivative is made from. */
export interface DerivativeInput {
  /** The original's bytes, streamed from storage. */
  stream: Readable;
  /** The original's metadata (mimeType, size, width, height...). */
  metadata: FileMetadata;
}

/** A derivative, ready to be stored next to its original. */
export interface DerivativeOutput {
  body: Readable | Buffer;
  /** MIME type of the result, e.g. 'image/webp'. */
  contentType: string;
  /** File extension without dot, e.g. 'webp'. */
  extension: string;
}

/**
 * Makes one derivative. It consumes `input.stream` (and destroys it when it gives up early), so a
 * function is called once per input; it rejects rather than returning a partial result.
 */
export type DerivativeFunction = (input: DerivativeInput) => Promise<DerivativeOutput>;

/** The class form of a DerivativeFunction, for processors that need injected dependencies. */
export interface DerivativeProcessor {
  process(input: DerivativeInput): Promise<DerivativeOutput>;
}
