import { Readable } from 'node:stream';
import { constants, createDeflate, deflateSync } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import { describeHead } from '../../src/core/metadata-probe.js';
import type { FileMetadata } from '../../src/core/uploaded-file.js';
import type { DerivativeInput } from '../../src/derivatives/derivative-processor.interface.js';
import { pngContainer } from '../support/fixtures.js';

/** RGB pixels: a gradient with pseudo-random noise, so encoders have real work to do. */
function noisyPixels(width: number, height: number, seed: number): Buffer {
  const pixels = Buffer.alloc(width * height * 3);
  let state = seed || 1;
  for (let i = 0; i < pixels.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    const x = Math.floor(i / 3) % width;
    pixels[i] = ((x * 255) / width + (state & 0x3f)) & 0xff;
  }
  return pixels;
}

/** A real photo-like image, in the given format, encoded by sharp. */
export function photo(width: number, height: number, seed = 7): Sharp {
  return sharp(noisyPixels(width, height, seed), { raw: { width, height, channels: 3 } });
}

/** Left half red, right half blue: shows which way an image was turned. */
export function halves(width: number, height: number): Sharp {
  const half = Math.floor(width / 2);
  const blue = {
    create: { width: width - half, height, channels: 3 as const, background: '#00f' },
  };
  return sharp({ create: { width, height, channels: 3, background: '#ff0000' } }).composite([
    { input: blue, left: half, top: 0 },
  ]);
}

/** Adam7 passes of an interlaced PNG: first column and row, then column and row steps. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/**
 * A complete, valid PNG of width × height black RGB pixels: it compresses about 250:1 (about
 * 1000:1 at `level` 9, slower to build: 20000 × 20000 gives 1.2 MB in a few seconds). It is
 * interlaced, which makes libvips decode it whole before resizing (a plain PNG is read in strips
 * and costs little memory): at 16000 × 16000, about 770 MB. Deflated row by row as it is built.
 */
export async function pngBomb(
  width: number,
  height: number,
  level: number = constants.Z_BEST_SPEED,
): Promise<Buffer> {
  function* rows() {
    for (const [x0, y0, dx, dy] of ADAM7) {
      const passWidth = Math.ceil((width - x0) / dx);
      const passHeight = Math.ceil((height - y0) / dy);
      const row = Buffer.alloc(1 + passWidth * 3);
      for (let y = 0; passWidth > 0 && y < passHeight; y++) yield row;
    }
  }
  const deflate = createDeflate({ level });
  const compressed = await Readable.from(rows()).pipe(deflate).toArray();
  return pngContainer(width, height, Buffer.concat(compressed as Buffer[]), { interlaced: true });
}

/** A PNG whose header declares width × height pixels, its data cut off after the first rows. */
export function pngBombHeader(width: number, height: number): Buffer {
  return pngContainer(width, height, deflateSync(Buffer.alloc(1024 * 1024)), { interlaced: true });
}

/**
 * What a job hands a processor: the bytes streamed in 64 KB chunks, and metadata read from them
 * as at upload (`dimensions: false` leaves width and height out, as when the probe could not
 * read them).
 */
export async function inputOf(
  bytes: Buffer,
  { dimensions = true }: { dimensions?: boolean } = {},
): Promise<DerivativeInput> {
  const { mimeType, width, height } = await describeHead(bytes);
  const metadata: FileMetadata = { filename: 'upload', size: bytes.length, mimeType };
  if (dimensions) Object.assign(metadata, { width, height });
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += 65536) chunks.push(bytes.subarray(at, at + 65536));
  return { stream: Readable.from(chunks), metadata };
}

/** The highest resident set size seen while `work` runs (sampled every 5 ms) and after it. */
export async function peakRss<T>(
  work: () => Promise<T>,
): Promise<{ peak: number; result: T | Error }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  let result: T | Error;
  try {
    result = await work();
  } catch (error) {
    result = error as Error;
  } finally {
    clearInterval(timer);
  }
  return { peak: Math.max(peak, process.memoryUsage().rss), result };
}
