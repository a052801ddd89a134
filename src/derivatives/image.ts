import { AttachmentConfigurationError } from '../core/index.js';
import type { DerivativeFunction } from './derivative-processor.interface.js';
import { DEFAULT_MAX_INPUT_PIXELS } from './image-limits.js';
import { OUTPUT_FORMATS, runImagePipeline, type ImagePlan } from './image-pipeline.js';

/**
 * Image derivatives made with sharp. Every helper returns a DerivativeFunction that decodes the
 * original once and, in that one pass: rejects images over `maxInputPixels` from their header
 * (ImageTooLargeError), turns the image upright by its EXIF orientation, resizes and converts
 * it, and writes it without metadata (no EXIF, XMP, IPTC nor ICC profile; colours in sRGB).
 * Only the first frame of an animated GIF or WebP is used. The result is a Buffer: sharp
 * produces the whole image before it emits a byte anyway, and a Buffer lets the returned
 * promise reject, with ImageProcessingError, for input sharp cannot read.
 */

/** Output formats: those every current browser shows. */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'avif';

/**
 * - `inside`: as large as possible within width × height, keeping the aspect ratio.
 * - `cover`: fills width × height exactly, keeping the aspect ratio, cropping the overflow
 *   around the centre.
 * - `contain`: fits inside, then pads to exactly width × height with `background`.
 */
export type ImageFit = 'inside' | 'cover' | 'contain';

export { DEFAULT_MAX_INPUT_PIXELS };

export interface ImageOutputOptions {
  /** Default: the input's format when it is one of ImageFormat, else PNG. */
  format?: ImageFormat;
  /** 1 to 100, for JPEG, WebP and AVIF; PNG stays lossless. Default: sharp's (80; AVIF 50). */
  quality?: number;
  /**
   * A CSS colour (`'#fff'`, `'rgba(0,0,0,0)'`): the bars of fit `contain`, and what transparent
   * pixels lie on in JPEG. Default: white for JPEG, transparent for the other formats.
   */
  background?: string;
  /** Images whose header declares more pixels are rejected before decoding. */
  maxInputPixels?: number;
}

export interface ResizeImageOptions extends ImageOutputOptions {
  /** In pixels; give at least one of width and height. The other follows the aspect ratio. */
  width?: number;
  height?: number;
  /** Default `inside`. */
  fit?: ImageFit;
  /** Leave an image smaller than the box at its size (default true): enlarging only blurs. */
  withoutEnlargement?: boolean;
}

export interface ConvertImageOptions extends ImageOutputOptions {
  format: ImageFormat;
}

/**
 * A resized copy, e.g. a thumbnail:
 * `resizeImage({ width: 200, height: 200, fit: 'cover', format: 'webp' })`.
 */
export function resizeImage(options: ResizeImageOptions): DerivativeFunction {
  const { width, height, fit = 'inside', withoutEnlargement = true } = options;
  checkSize('width', width);
  checkSize('height', height);
  if (width === undefined && height === undefined) {
    fail('resizeImage needs a width, a height or both');
  }
  if (!FITS.includes(fit)) fail(`fit must be one of ${FITS.join(', ')}; got ${String(fit)}`);
  return imageFunction(options, { width, height, fit, withoutEnlargement });
}

/**
 * The same as resizeImage, meant for the original itself before it is stored: bounds what is
 * kept (and served) and drops EXIF such as the GPS position. By default at most 2000 px on each
 * side, keeping the format: `preprocessImage({ width: 2000, height: 2000, format: 'jpeg' })`.
 */
export function preprocessImage(
  options: ResizeImageOptions = { width: 2000, height: 2000 },
): DerivativeFunction {
  return resizeImage(options);
}

/** The same image in another format, at its own size (upright, without metadata). */
export function convertImage(options: ConvertImageOptions): DerivativeFunction {
  if (options?.format === undefined) fail('convertImage needs a format');
  return imageFunction(options);
}

/** The same image in the same format, upright and without metadata (EXIF GPS position...). */
export function stripImageMetadata(
  options: Pick<ImageOutputOptions, 'maxInputPixels'> = {},
): DerivativeFunction {
  return imageFunction(options);
}

const FITS: readonly ImageFit[] = ['inside', 'cover', 'contain'];

/** Checks the options when the helper is called, at start-up, rather than in every job. */
function imageFunction(
  options: ImageOutputOptions,
  resize?: ImagePlan['resize'],
): DerivativeFunction {
  const { format, quality, background, maxInputPixels = DEFAULT_MAX_INPUT_PIXELS } = options;
  if (format !== undefined && !Object.hasOwn(OUTPUT_FORMATS, format)) {
    fail(`format must be one of ${Object.keys(OUTPUT_FORMATS).join(', ')}; got ${String(format)}`);
  }
  if (quality !== undefined && !(Number.isInteger(quality) && quality >= 1 && quality <= 100)) {
    fail(`quality must be an integer from 1 to 100; got ${quality}`);
  }
  if (!(Number.isSafeInteger(maxInputPixels) && maxInputPixels > 0)) {
    fail(`maxInputPixels must be a positive integer; got ${maxInputPixels}`);
  }
  const plan: ImagePlan = { resize, format, quality, background, maxInputPixels };
  return (input) => runImagePipeline(input, plan);
}

function checkSize(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
    fail(`${name} must be a positive integer; got ${value}`);
  }
}

function fail(message: string): never {
  throw new AttachmentConfigurationError(message);
}

export { ImageProcessingError, ImageTooLargeError } from './image.errors.js';
export { placeholderDataUrl } from './placeholder.js';
