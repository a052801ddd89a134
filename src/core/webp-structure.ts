import { StructureParser } from './structure-parser.js';

const FIRST_CHUNKS = new Set(['VP8 ', 'VP8L', 'VP8X']);

/**
 * A whole WebP: a RIFF header whose size matches the bytes that follow it, `WEBP`, and chunks
 * (fourcc, size, data padded to even) that end exactly where the RIFF size says.
 */
export class WebpStructure extends StructureParser {
  private left = 0;
  private chunks = 0;

  constructor() {
    super('WebP');
    this.field(12, (header) => {
      if (header.toString('latin1', 0, 4) !== 'RIFF' || header.toString('latin1', 8) !== 'WEBP') {
        this.fail('no RIFF WEBP header');
      }
      this.left = header.readUInt32LE(4) - 4;
      if (this.left < 8) this.fail(`a RIFF size of ${this.left + 4}`);
      this.chunk();
    });
  }

  static matches(head: Buffer): boolean {
    return head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP';
  }

  static readonly headSize = 12;

  private chunk(): void {
    this.field(8, (header) => {
      const fourcc = header.toString('latin1', 0, 4);
      if (this.chunks++ === 0 && !FIRST_CHUNKS.has(fourcc)) {
        this.fail(`the first chunk is ${JSON.stringify(fourcc)}, not VP8, VP8L or VP8X`);
      }
      const size = header.readUInt32LE(4);
      const padded = size + (size & 1);
      this.left -= 8 + padded;
      if (this.left < 0) this.fail(`chunk ${JSON.stringify(fourcc)} runs past the RIFF size`);
      this.body(padded, () => (this.left === 0 ? this.finish() : this.chunk()));
    });
  }
}
