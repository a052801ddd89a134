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

export function pdfDocument(pages: PdfPage[] = [{ width: 400, height: 300 }]): Buffer {
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
    objects.push(
      `<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}\nendstream`,
    );
  });

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
    `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${length}\n%%EOF\n`,
  );
  return Buffer.from(parts.join(''), 'latin1');
}

/** Starts as a PDF (file-type judges it application/pdf) but holds no readable document. */
export function corruptPdf(): Buffer {
  return Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(2048, 'not a pdf object ')]);
}
