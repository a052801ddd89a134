import { StructureParser } from './structure-parser.js';

const MARKER = 0xff;
const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const TEM = 0x01;

/** RST0 to RST7 carry no length: they sit inside scan data, between restart intervals. */
const isRestart = (marker: number) => marker >= 0xd0 && marker <= 0xd7;

/**
 * A whole JPEG: SOI, then segments (marker and length), scan data after each SOS (read up to
 * the next marker that is not a stuffed byte or a restart), and EOI last with nothing after it.
 */
export class JpegStructure extends StructureParser {
  private scans = 0;
  /** A 0xFF ended the last chunk of scan data; the byte that follows decides what it was. */
  private markerPending = false;

  constructor() {
    super('JPEG');
    this.field(2, (bytes) => {
      if (bytes[0] !== MARKER || bytes[1] !== SOI) this.fail('no SOI marker');
      this.marker();
    });
  }

  static matches(head: Buffer): boolean {
    return head[0] === MARKER && head[1] === SOI && head[2] === MARKER;
  }

  static readonly headSize = 3;

  /** Expects a marker: 0xFF (fill bytes allowed), then its code. */
  private marker(): void {
    this.field(1, ([byte]) => {
      if (byte !== MARKER) this.fail('a segment does not start with a marker');
      this.markerCode();
    });
  }

  private markerCode(): void {
    this.field(1, ([code]) => this.segment(code!));
  }

  private segment(code: number): void {
    if (code === MARKER) return this.markerCode(); // a fill byte before the code
    if (code === EOI) {
      if (this.scans === 0) this.fail('EOI before any scan');
      return this.finish();
    }
    if (code === SOI || code === 0) this.fail(`unexpected marker 0x${code.toString(16)}`);
    if (isRestart(code) || code === TEM) return this.marker();
    this.field(2, (bytes) => {
      const length = bytes.readUInt16BE(0);
      if (length < 2) this.fail(`segment 0x${code.toString(16)} has length ${length}`);
      this.body(length - 2, () => (code === SOS ? this.scanData() : this.marker()));
    });
  }

  /** Entropy-coded data: 0xFF 0x00 is a stuffed byte, 0xFF RSTn a restart, else a marker. */
  private scanData(): void {
    this.scans++;
    this.scan((bytes) => {
      let at = 0;
      if (this.markerPending) {
        this.markerPending = false;
        const code = bytes[0]!;
        if (code === MARKER) {
          this.markerPending = true;
          return 1;
        }
        if (code !== 0 && !isRestart(code)) {
          this.segment(code);
          return 1;
        }
        at = 1;
      }
      for (;;) {
        const found = bytes.indexOf(MARKER, at);
        if (found === -1) return bytes.length;
        if (found === bytes.length - 1) {
          this.markerPending = true;
          return bytes.length;
        }
        const code = bytes[found + 1]!;
        if (code === MARKER) {
          at = found + 1; // fill: the next 0xFF is the marker's own
        } else if (code === 0 || isRestart(code)) {
          at = found + 2;
        } else {
          this.segment(code);
          return found + 2;
        }
      }
    });
  }
}
