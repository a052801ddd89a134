import { crc32, deflateSync } from 'node:zlib';

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** An 8-bit RGB PNG file around already-compressed pixel data (`idat`). */
export function pngContainer(
  width: number,
  height: number,
  idat: Buffer,
  options: { interlaced?: boolean } = {},
): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, options.interlaced ? 1 : 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', idat),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A valid RGB PNG of the given size, its pixels varied by `seed` so every image differs. */
export function png(width: number, height: number, seed = 0): Buffer {
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width * 3; x++) rows[y * (width * 3 + 1) + 1 + x] = (x + y + seed) & 0xff;
  }
  return pngContainer(width, height, deflateSync(rows));
}

/** Bytes that are a PDF by their magic number, whatever name they are given. */
export function pdf(): Buffer {
  return Buffer.from('%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n');
}

/**
 * A whole PNG of exactly `size` bytes (at least 57), streamed in chunks of at most `chunkSize`:
 * signature, an IHDR of 16 × 16, one IDAT chunk holding `size - 57` bytes of `fill` (not real
 * compressed pixels: the structure check reads chunks, not pixels) and IEND. Its CRC is
 * computed as it goes, so a file of any size is never held whole. `fill` writes each data chunk
 * (given its offset in the data) before it is sent; it reuses one buffer.
 */
export function* streamedPng(
  size: number,
  chunkSize = 256 * 1024,
  fill: (chunk: Buffer, offset: number) => void = () => undefined,
): Generator<Buffer> {
  const head = pngContainer(16, 16, Buffer.alloc(0)).subarray(0, 33); // signature and IHDR
  const data = size - 57;
  const idat = Buffer.alloc(8);
  idat.writeUInt32BE(data, 0);
  idat.write('IDAT', 4, 'latin1');
  yield Buffer.concat([head, idat]);
  let crc = crc32(idat.subarray(4));
  const filler = Buffer.alloc(chunkSize);
  for (let sent = 0; sent < data; sent += chunkSize) {
    const chunk = filler.subarray(0, Math.min(chunkSize, data - sent));
    fill(chunk, sent);
    crc = crc32(chunk, crc);
    yield chunk;
  }
  const end = Buffer.alloc(16);
  end.writeUInt32BE(crc, 0);
  end.set(chunk('IEND', Buffer.alloc(0)), 4);
  yield end;
}
