import { resolve } from 'node:path';
import { AttachmentConfigurationError } from '../core/index.js';
import type { DerivativeFunction } from './derivative-processor.interface.js';
import {
  DEFAULT_MAX_INPUT_PIXELS,
  resizeImage,
  type ImageFit,
  type ImageFormat,
  type ImageOutputOptions,
} from './image.js';

/** The options pdfPreview and videoPoster share. */
export interface PreviewOptions extends Pick<ImageOutputOptions, 'quality' | 'background'> {
  /** In pixels; give at least one of width and height. The other follows the aspect ratio. */
  width?: number;
  height?: number;
  /** As resizeImage's: `inside` (default), `cover` or `contain`. */
  fit?: ImageFit;
  /** Default `jpeg`. */
  format?: ImageFormat;
  /** Milliseconds each tool may run before it is killed (SIGKILL). */
  timeout?: number;
  /** Larger originals fail with PreviewInputTooLargeError, before or while they are copied. */
  maxInputSize?: number;
  /**
   * The most pixels the tool may draw: a PDF page as rendered, a video's frame as decoded.
   * More fail with ImageTooLargeError before anything is drawn. Default 40,000,000.
   */
  maxPixels?: number;
  /** The tool that draws (`pdftoppm`, `ffmpeg`): a path, or a name looked up on PATH. */
  command?: string;
  /** The tool that reads sizes first (`pdfinfo`, `ffprobe`): a path, or a name on PATH. */
  probeCommand?: string;
  /** Where each preview makes its private temporary folder. Default: os.tmpdir(). */
  tempDirectory?: string;
}

/** The options, checked, with their defaults. */
export interface PreviewPlan {
  box: { width?: number; height?: number; fit: ImageFit };
  timeout: number;
  maxInputSize: number;
  maxPixels: number;
  command: string;
  probeCommand: string;
  tempDirectory?: string;
  /** Resizes and encodes what the tool drew, as resizeImage does. */
  finish: DerivativeFunction;
}

/** setTimeout's largest delay. */
const MAX_TIMEOUT = 2 ** 31 - 1;

/**
 * Checks a preview helper's options when the helper is called, at start-up, as the image
 * helpers do; `helper` names it in messages.
 */
export function previewPlan(
  helper: string,
  options: PreviewOptions & { withoutEnlargement?: boolean },
  defaults: { timeout: number; maxInputSize: number; command: string; probeCommand: string },
): PreviewPlan {
  const { width, height, fit = 'inside', format = 'jpeg', quality, background } = options;
  const { timeout = defaults.timeout, maxInputSize = defaults.maxInputSize } = options;
  const { maxPixels = DEFAULT_MAX_INPUT_PIXELS, tempDirectory } = options;
  const { command = defaults.command, probeCommand = defaults.probeCommand } = options;
  const fail = (message: string): never => {
    throw new AttachmentConfigurationError(`${helper}: ${message}`);
  };
  if (width === undefined && height === undefined) fail('give a width, a height or both');
  if (!(Number.isInteger(timeout) && timeout > 0 && timeout <= MAX_TIMEOUT)) {
    fail(`timeout must be a positive integer of milliseconds; got ${timeout}`);
  }
  if (!(Number.isSafeInteger(maxInputSize) && maxInputSize > 0)) {
    fail(`maxInputSize must be a positive integer of bytes; got ${maxInputSize}`);
  }
  for (const [name, value] of Object.entries({ command, probeCommand, tempDirectory })) {
    if (value !== undefined && !(typeof value === 'string' && value.length > 0)) {
      fail(`${name} must be a non-empty string`);
    }
  }
  let finish: DerivativeFunction;
  try {
    // The rest (sizes, fit, format, quality, maxPixels) is checked as resizeImage checks it.
    finish = resizeImage({
      width,
      height,
      fit,
      format,
      quality,
      background,
      withoutEnlargement: options.withoutEnlargement ?? false,
      maxInputPixels: maxPixels,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return fail(message.replace('maxInputPixels', 'maxPixels'));
  }
  return {
    box: { width, height, fit },
    timeout,
    maxInputSize,
    maxPixels,
    // The tools run in a temporary folder: a relative path is taken from here, now.
    command: absoluteIfPath(command),
    probeCommand: absoluteIfPath(probeCommand),
    tempDirectory,
    finish,
  };
}

/**
 * The scale that brings `source` to the box: inside it (fits `inside`, `contain`) or over it
 * (`cover`); by the one side given when only one is.
 */
export function scaleToBox(
  source: { width: number; height: number },
  box: PreviewPlan['box'],
): number {
  const x = box.width === undefined ? undefined : box.width / source.width;
  const y = box.height === undefined ? undefined : box.height / source.height;
  if (x === undefined || y === undefined) return (x ?? y)!;
  return box.fit === 'cover' ? Math.max(x, y) : Math.min(x, y);
}

function absoluteIfPath(command: string): string {
  return command.includes('/') ? resolve(command) : command;
}
