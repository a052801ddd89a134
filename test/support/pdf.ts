import { createHash } from 'node:crypto';

/**
 * Small, valid PDF files written by hand, so the preview tests render a real document without
 * a PDF library: each page is a white sheet with a filled rectangle covering its lower half, in
 * `color`, and a line of text above it. The cross-reference table holds each object's byte
 * offset, computed as the file is assembled.
 */

export interface PdfPage {
  /** In points (1/72 inch). */
  width: number;
  height: number;
  /** The page's /Rotate: a multiple of 90. */
  rotate?: number;
  /** RGB of the rectangle, each 0 to 1. Default blue. */
  color?: [number, number, number];
  text?: string;
}

/** The PDF standard security handler, revision 2 (RC4, 40-bit keys): what old tools write. */
export interface PdfEncryption {
  /** Needed to open the document; empty: anyone may open it. */
  userPassword: string;
  /** Needed to lift the permissions. */
  ownerPassword: string;
}

export function pdfDocument(
  pages: PdfPage[] = [{ width: 400, height: 300 }],
  encryption?: PdfEncryption,
): Buffer {
  const lock = encryption && securityHandler(encryption);
  // 1: catalog, 2: page tree, 3: font; then a page and its content stream for each page.
  const objects: string[] = [];
  const pageIds = pages.map((_, index) => 4 + index * 2);
  objects.push('<< /Type /Catalog /Pages 2 0 R >>');
  const kids = pageIds.map((id) => `${id} 0 R`).join(' ');
  objects.push(`<< /Type /Pages /Kids [${kids}] /Count ${pages.length} >>`);
  objects.push('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
  pages.forEach((page, index) => {
    const { width, height, rotate = 0, color = [0, 0, 1], text = `Page ${index + 1}` } = page;
    const content = [
      `${color.join(' ')} rg`,
      `0 0 ${width} ${height / 2} re f`,
      '0 0 0 rg',
      `BT /F1 ${Math.round(height / 10)} Tf 10 ${Math.round(height * 0.7)} Td (${text}) Tj ET`,
    ].join('\n');
    objects.push(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${width} ${height}] /Rotate ${rotate} ` +
        `/Resources << /Font << /F1 3 0 R >> >> /Contents ${pageIds[index]! + 1} 0 R >>`,
    );
    const id = pageIds[index]! + 1;
    const stream = lock ? lock.encrypt(id, Buffer.from(content, 'latin1')) : content;
    objects.push(
      `<< /Length ${Buffer.byteLength(stream, 'latin1')} >>\nstream\n${stream}\nendstream`,
    );
  });

  if (lock) objects.push(lock.dictionary);

  const parts: string[] = ['%PDF-1.4\n%\xe2\xe3\xcf\xd3\n'];
  let length = Buffer.byteLength(parts[0]!, 'latin1');
  const offsets: number[] = [];
  objects.forEach((body, index) => {
    offsets.push(length);
    const text = `${index + 1} 0 obj\n${body}\nendobj\n`;
    parts.push(text);
    length += Buffer.byteLength(text, 'latin1');
  });
  // Each entry is exactly 20 bytes: 10-digit offset, space, 5-digit generation, space, type, EOL.
  const entries = offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n \n`);
  parts.push(
    `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${entries.join('')}`,
    `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R ${lock ? `/Encrypt ${objects.length} 0 R /ID [<${FILE_ID}> <${FILE_ID}>] ` : ''}>>\n`,
    `startxref\n${length}\n%%EOF\n`,
  );
  return Buffer.from(parts.join(''), 'latin1');
}

/** Starts as a PDF (file-type judges it application/pdf) but holds no readable document. */
export function corruptPdf(): Buffer {
  return Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(2048, 'not a pdf object ')]);
}

const FILE_ID = '0123456789abcdef0123456789abcdef';
/** The 32 bytes that pad a password (PDF 32000-1, 7.6.3.3). */
const PADDING = Buffer.from(
  '28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a',
  'hex',
);
/** Changes and annotations refused (bits 4 and 6 clear), printing and copying allowed. */
const PERMISSIONS = -44;

function padded(password: string): Buffer {
  return Buffer.concat([Buffer.from(password, 'latin1'), PADDING]).subarray(0, 32);
}

const md5 = (...parts: Buffer[]) => createHash('md5').update(Buffer.concat(parts)).digest();

/** RC4, which Node's OpenSSL no longer offers by default. */
function rc4(key: Buffer, data: Buffer): Buffer {
  const state = Array.from({ length: 256 }, (_, index) => index);
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + state[i]! + key[i % key.length]!) & 0xff;
    [state[i], state[j]] = [state[j]!, state[i]!];
  }
  const out = Buffer.alloc(data.length);
  for (let n = 0, i = 0, j = 0; n < data.length; n++) {
    i = (i + 1) & 0xff;
    j = (j + state[i]!) & 0xff;
    [state[i], state[j]] = [state[j]!, state[i]!];
    out[n] = data[n]! ^ state[(state[i]! + state[j]!) & 0xff]!;
  }
  return out;
}

/** Algorithms 2, 3 and 4 of PDF 32000-1 (7.6.3.3, 7.6.3.4), revision 2. */
function securityHandler({ userPassword, ownerPassword }: PdfEncryption) {
  const owner = rc4(md5(padded(ownerPassword)).subarray(0, 5), padded(userPassword));
  const permissions = Buffer.alloc(4);
  permissions.writeInt32LE(PERMISSIONS);
  const fileKey = md5(
    padded(userPassword),
    owner,
    permissions,
    Buffer.from(FILE_ID, 'hex'),
  ).subarray(0, 5);
  const user = rc4(fileKey, PADDING);
  return {
    dictionary:
      `<< /Filter /Standard /V 1 /R 2 /O <${owner.toString('hex')}> ` +
      `/U <${user.toString('hex')}> /P ${PERMISSIONS} >>`,
    /** A stream of object `id` (generation 0), as it is stored. */
    encrypt(id: number, data: Buffer): string {
      const objectKey = Buffer.concat([fileKey, Buffer.from([id, id >> 8, id >> 16, 0, 0])]);
      return rc4(md5(objectKey).subarray(0, 10), data).toString('latin1');
    },
  };
}
