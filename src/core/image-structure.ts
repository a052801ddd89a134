import { GifStructure } from './gif-structure.js';
import { JpegStructure } from './jpeg-structure.js';
import { PngStructure } from './png-structure.js';
import type { StructureParser } from './structure-parser.js';
import { WebpStructure } from './webp-structure.js';

/** The image formats whose structure is checked to the end, by the magic bytes that name them. */
const FORMATS = [PngStructure, JpegStructure, GifStructure, WebpStructure];

/** First bytes enough to tell every checked format apart. */
const SIGNATURE_BYTES = Math.max(...FORMATS.map((format) => format.headSize));

/**
 * Checks, as a file streams by, that a file whose first bytes show PNG, JPEG, GIF or WebP (the
 * magic numbers the type detection reads) is one whole image of that type, its end included
 * and nothing after it; MalformedImageError otherwise. Files of other types pass unchecked.
 * It holds only the first few bytes and the field being read.
 */
export class ImageStructure {
  /** Undefined until the first bytes tell whether the file is an image that is checked. */
  private parser: StructureParser | null | undefined;
  private early: Buffer[] = [];
  private earlyLength = 0;

  /** Feeds the next bytes of the file; throws at the first fault. */
  write(chunk: Buffer): void {
    if (this.parser) return this.parser.write(chunk);
    if (this.parser === null) return;
    this.early.push(chunk);
    this.earlyLength += chunk.length;
    if (this.earlyLength >= SIGNATURE_BYTES) this.choose();
  }

  /** Call once the file has no more bytes; throws if an image stopped short of its end. */
  end(): void {
    if (this.parser === undefined) this.choose();
    this.parser?.end();
  }

  /** True once the first bytes showed that the file is not one of the checked formats. */
  get unchecked(): boolean {
    return this.parser === null;
  }

  private choose(): void {
    const early = Buffer.concat(this.early, this.earlyLength);
    this.early = [];
    const format = FORMATS.find((candidate) => candidate.matches(early));
    this.parser = format ? new format() : null;
    this.parser?.write(early);
  }
}
