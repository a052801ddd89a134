import { StructureParser } from './structure-parser.js';

const IMAGE = 0x2c;
const EXTENSION = 0x21;
const TRAILER = 0x3b;

/** Bytes of a colour table whose presence and size a packed field gives. */
const colourTable = (packed: number) => (packed & 0x80 ? 3 * 2 ** ((packed & 0x07) + 1) : 0);

/**
 * A whole GIF: header, logical screen descriptor (and its colour table), then blocks (images
 * and extensions, their data in sub-blocks), at least one image, and the trailer 0x3B last
 * with nothing after it.
 */
export class GifStructure extends StructureParser {
  private images = 0;

  constructor() {
    super('GIF');
    this.field(13, (header) => {
      const version = header.toString('latin1', 0, 6);
      if (version !== 'GIF87a' && version !== 'GIF89a') this.fail(`unknown version ${version}`);
      this.body(colourTable(header[10]!), () => this.block());
    });
  }

  static matches(head: Buffer): boolean {
    return head.toString('latin1', 0, 3) === 'GIF';
  }

  static readonly headSize = 3;

  private block(): void {
    this.field(1, ([introducer]) => {
      if (introducer === TRAILER) {
        if (this.images === 0) this.fail('the trailer comes before any image');
        return this.finish();
      }
      if (introducer === EXTENSION) return this.field(1, () => this.subBlocks());
      if (introducer !== IMAGE) this.fail(`unknown block 0x${introducer!.toString(16)}`);
      this.images++;
      this.field(9, (descriptor) => {
        // The colour table, then the LZW code size, then the image data.
        this.body(colourTable(descriptor[8]!), () => this.field(1, () => this.subBlocks()));
      });
    });
  }

  private subBlocks(): void {
    this.field(1, ([size]) => {
      if (size === 0) this.block();
      else this.body(size!, () => this.subBlocks());
    });
  }
}
