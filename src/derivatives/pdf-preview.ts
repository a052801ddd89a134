import { join } from 'node:path';
import { AttachmentConfigurationError, ImageTooLargeError } from '../core/index.js';
import type { DerivativeFunction } from './derivative-processor.interface.js';
import { runTool, type ExternalTool } from './external-tool.js';
import {
  previewPlan,
  scaleToBox,
  type PreviewOptions,
  type PreviewPlan,
} from './preview-options.js';
import { encodeRendered, INPUT_FILE, withInputFile } from './preview-workspace.js';
import { PreviewFailedError } from './preview.errors.js';

export interface PdfPreviewOptions extends PreviewOptions {
  /** The page shown, from 1 (at most 1000). Default 1; a shorter document shows its last page. */
  page?: number;
}

const POPPLER = 'Debian: apt-get install poppler-utils';
const MAX_PAGE = 1000;

/**
 * An image of one page of a PDF, drawn by Poppler's `pdftoppm` at the scale that gives the
 * size asked for (`pdfinfo` reads the page's size first), then encoded by sharp as resizeImage
 * does. What is shown is the page's crop box, turned by its /Rotate, as PDF viewers show it.
 * Only originals judged `application/pdf` from their bytes are read.
 */
export function pdfPreview(options: PdfPreviewOptions): DerivativeFunction {
  const plan = previewPlan('pdfPreview', options, {
    timeout: 30_000,
    maxInputSize: 100 * 1024 * 1024,
    command: 'pdftoppm',
    probeCommand: 'pdfinfo',
  });
  const { page = 1 } = options;
  if (!(Number.isInteger(page) && page >= 1 && page <= MAX_PAGE)) {
    throw new AttachmentConfigurationError(
      `pdfPreview: page must be an integer from 1 to ${MAX_PAGE}; got ${page}`,
    );
  }
  const pdftoppm: ExternalTool = { name: 'pdftoppm', command: plan.command, install: POPPLER };
  const pdfinfo: ExternalTool = { name: 'pdfinfo', command: plan.probeCommand, install: POPPLER };
  return async (input) => {
    const { mimeType } = input.metadata;
    if (mimeType !== 'application/pdf') {
      input.stream.destroy();
      throw new PreviewFailedError(`pdfPreview reads PDF files; this file is ${mimeType}`);
    }
    return withInputFile(input, plan, async (folder) => {
      const run = { cwd: folder, timeout: plan.timeout };
      const shown = readPage(await runTool(pdfinfo, pageInfoArgs(page), run), page);
      const area = drawnArea(shown, plan);
      if (area.width * area.height > plan.maxPixels) {
        throw new ImageTooLargeError(plan.maxPixels, { width: area.width, height: area.height });
      }
      await runTool(pdftoppm, renderArgs(shown.number, area), run);
      return encodeRendered(join(folder, 'page.png'), plan.finish, 'pdftoppm drew nothing');
    });
  };
}

/** A page as a viewer shows it: its crop box in points, turned by its rotation. */
interface ShownPage {
  number: number;
  width: number;
  height: number;
}

/** Pages 1 to `page` (pdfinfo stops at the last page there is), with their boxes. */
function pageInfoArgs(page: number): string[] {
  return ['-f', '1', '-l', String(page), '-box', INPUT_FILE];
}

/**
 * The page to show from pdfinfo's report. Only what follows its `Pages:` line is read: the
 * document's title and other metadata come before it, and could imitate the lines below.
 */
function readPage(report: Buffer, asked: number): ShownPage {
  const text = report.toString('latin1');
  const counts = [...text.matchAll(/^Pages:\s+(\d+)\s*$/gm)];
  const last = counts.at(-1);
  const pages = Number(last?.[1] ?? 0);
  if (!last || pages < 1) throw new PreviewFailedError('pdfinfo found no page in the document');
  const rest = text.slice(last.index + last[0].length);
  const number = Math.min(asked, pages);
  const box = lastMatch(
    rest,
    new RegExp(`^Page\\s+${number}\\s+CropBox:((?:\\s+-?[\\d.]+){4})`, 'gm'),
  );
  const rotation = lastMatch(rest, new RegExp(`^Page\\s+${number}\\s+rot:\\s+(-?\\d+)`, 'gm'));
  const [x1, y1, x2, y2] = (box ?? '').trim().split(/\s+/).map(Number);
  const width = Math.abs(x2! - x1!);
  const height = Math.abs(y2! - y1!);
  if (!(width > 0 && height > 0 && Number.isFinite(width * height))) {
    throw new PreviewFailedError(`pdfinfo gave no usable size for page ${number}`);
  }
  const quarterTurn = Math.abs(Number(rotation ?? 0)) % 180 === 90;
  return quarterTurn ? { number, width: height, height: width } : { number, width, height };
}

function lastMatch(text: string, pattern: RegExp): string | undefined {
  return [...text.matchAll(pattern)].at(-1)?.[1];
}

/** What pdftoppm draws: the page at a resolution, and for `cover` only the part kept. */
interface DrawnArea {
  dpi: number;
  width: number;
  height: number;
  crop?: { x: number; y: number };
}

/**
 * The resolution that gives the box asked for. For `cover`, pdftoppm draws only the centre
 * that fills the box, so a long narrow page never becomes a huge raster.
 */
function drawnArea(page: ShownPage, plan: PreviewPlan): DrawnArea {
  const scale = scaleToBox(page, plan.box);
  // pdftoppm rounds up; the epsilon keeps 299.99999 from becoming 301 pixels.
  const width = Math.max(1, Math.ceil(page.width * scale - 1e-6));
  const height = Math.max(1, Math.ceil(page.height * scale - 1e-6));
  const dpi = 72 * scale;
  const { box } = plan;
  if (box.fit !== 'cover' || box.width === undefined || box.height === undefined) {
    return { dpi, width, height };
  }
  const crop = {
    x: Math.max(0, Math.floor((width - box.width) / 2)),
    y: Math.max(0, Math.floor((height - box.height) / 2)),
  };
  return { dpi, width: Math.min(width, box.width), height: Math.min(height, box.height), crop };
}

function renderArgs(page: number, area: DrawnArea): string[] {
  const crop = area.crop
    ? [
        '-x',
        `${area.crop.x}`,
        '-y',
        `${area.crop.y}`,
        '-W',
        `${area.width}`,
        '-H',
        `${area.height}`,
      ]
    : [];
  return [
    ...['-f', `${page}`, '-l', `${page}`, '-singlefile', '-cropbox', '-png'],
    ...['-r', area.dpi.toFixed(6), ...crop, INPUT_FILE, 'page'],
  ];
}
