import { crc32 } from 'node:zlib';
import { StructureParser } from './structure-parser.js';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** PNG caps a chunk's length at 2^31 - 1. */
const MAX_CHUNK = 0x7fffffff;

/**
 * A whole PNG: the signature, then chunks (length, type, data, CRC), IHDR first, at least one
 * IDAT, IEND last and nothing after it. Each chunk's CRC is computed as its data streams by.
 */
export class PngStructure extends StructureParser {
  private chunks = 0;
  private sawData = false;

  constructor() {
    super('PNG');
    this.field(SIGNATURE.length, (bytes) => {
      if (!bytes.equals(SIGNATURE)) this.fail('bad signature');
      this.chunkHeader();
    });
  }

  static matches(head: Buffer): boolean {
    return head.subarray(0, SIGNATURE.length).equals(SIGNATURE);
  }

  static readonly headSize = SIGNATURE.length;

  private chunkHeader(): void {
    this.field(8, (header) => {
      const length = header.readUInt32BE(0);
      const typeBytes = header.subarray(4, 8);
      const type = typeBytes.toString('latin1');
      if (length > MAX_CHUNK) this.fail(`chunk ${JSON.stringify(type)} claims ${length} bytes`);
      if (!/^[A-Za-z]{4}$/.test(type)) this.fail(`a chunk type that is not 4 letters`);
      if (this.chunks++ === 0 && type !== 'IHDR') this.fail('the first chunk is not IHDR');
      if (type === 'IDAT') this.sawData = true;
      let crc = crc32(typeBytes);
      this.body(
        length,
        () => this.chunkCrc(type, length, crc),
        (data) => (crc = crc32(data, crc)),
      );
    });
  }

  private chunkCrc(type: string, length: number, crc: number): void {
    this.field(4, (stored) => {
      if (stored.readUInt32BE(0) !== crc) this.fail(`chunk ${type} has a wrong CRC`);
      if (type !== 'IEND') return this.chunkHeader();
      if (length !== 0) this.fail('IEND carries data');
      if (!this.sawData) this.fail('no IDAT chunk before IEND');
      this.finish();
    });
  }
}
