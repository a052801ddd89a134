import { pipeline } from 'node:stream/promises';
import sharp, { type Sharp } from 'sharp';
import { describeHead, HeadTap, type FileMetadata, AttachmentError } from '../core/index.js';
import type { DerivativeInput, DerivativeOutput } from './derivative-processor.interface.js';
import { ImageProcessingError, ImageTooLargeError } from './image.errors.js';
import type { ImageFit, ImageFormat } from './image.js';

/** Everything one pass through sharp does. The public helpers in image.ts build and check it. */
export interface ImagePlan {
  resize?: { width?: number; height?: number; fit: ImageFit; withoutEnlargement: boolean };
  /** Undefined: keep the input's format when it is one of ImageFormat, else PNG. */
  format?: ImageFormat;
  quality?: number;
  background?: string;
  maxInputPixels: number;
}

export const OUTPUT_FORMATS: Readonly<
  Record<ImageFormat, { contentType: string; extension: string }>
> = {
  jpeg: { contentType: 'image/jpeg', extension: 'jpg' },
  png: { contentType: 'image/png', extension: 'png' },
  webp: { contentType: 'image/webp', extension: 'webp' },
  avif: { contentType: 'image/avif', extension: 'avif' },
};

const TRANSPARENT = { r: 0, g: 0, b: 0, alpha: 0 };
const WHITE = '#ffffff';

/**
 * Decodes the input once and writes one output image. Input is piped into sharp, which gathers
 * the compressed bytes before it reads anything (sharp 0.35 does not decode a stream as it
 * arrives); the pixel limit is then checked from the header, so a bomb never gets decoded.
 */
export async function runImagePipeline(
  input: DerivativeInput,
  plan: ImagePlan,
): Promise<DerivativeOutput> {
  const declared = dimensionsOf(input.metadata);
  if (declared && declared.width * declared.height > plan.maxInputPixels) {
    // The upload-time probe already read the header: spare the download.
    input.stream.destroy();
    throw new ImageTooLargeError(plan.maxInputPixels, declared);
  }
  const head = new HeadTap();
  const image = sharp({ limitInputPixels: plan.maxInputPixels });
  // A storage failure rejects `fed` and is passed on as it is: it says nothing about the image.
  // sharp's promise then never settles (it waits for the input to end), which is harmless.
  const fed = pipeline(input.stream, head, image);
  const made = render(image, plan).catch(async (error: unknown) => {
    throw await imageError(error, plan.maxInputPixels, head.bytes(), input.metadata);
  });
  const [, output] = await Promise.all([fed, made]);
  return output;
}

async function render(image: Sharp, plan: ImagePlan): Promise<DerivativeOutput> {
  // Header only, and already subject to limitInputPixels: nothing is decoded yet.
  const header = await image.metadata();
  const format = plan.format ?? keptFormat(header.mediaType);
  // Before resizing, so that width and height apply to the image as it is shown.
  image.autoOrient();
  if (plan.resize) {
    image.resize({
      ...plan.resize,
      // Bars of fit 'contain'; JPEG has no alpha, so they must be a colour there.
      background: plan.background ?? (format === 'jpeg' ? WHITE : TRANSPARENT),
    });
  }
  // JPEG drops alpha, which turns transparent pixels black: lay them on a background instead.
  if (format === 'jpeg') image.flatten({ background: plan.background ?? WHITE });
  // PNG's `quality` in sharp means lossy palette quantization: PNG output stays lossless.
  const quality = format === 'png' || plan.quality === undefined ? {} : { quality: plan.quality };
  // No keepExif/keepIccProfile/withMetadata: sharp then writes no EXIF, XMP or IPTC (GPS
  // position, camera serial...) and converts to sRGB without embedding a profile.
  image.toFormat(format, quality);
  return { body: await image.toBuffer(), ...OUTPUT_FORMATS[format] };
}

function keptFormat(mediaType: string | undefined): ImageFormat {
  const kept = Object.entries(OUTPUT_FORMATS).find(([, f]) => f.contentType === mediaType);
  // GIF, TIFF, SVG, HEIC...: PNG is lossless and shown by every browser.
  return kept ? (kept[0] as ImageFormat) : 'png';
}

async function imageError(
  error: unknown,
  limit: number,
  head: Buffer,
  metadata: FileMetadata,
): Promise<Error> {
  if (error instanceof AttachmentError) return error;
  const message = error instanceof Error ? error.message : String(error);
  // sharp (libvips) says only "Input image exceeds pixel limit": read the size from the header.
  if (/exceeds pixel limit/i.test(message)) {
    const read = dimensionsOf(await describeHead(head));
    return new ImageTooLargeError(limit, read ?? dimensionsOf(metadata), { cause: error });
  }
  return new ImageProcessingError(message, { cause: error });
}

function dimensionsOf(facts: {
  width?: number;
  height?: number;
}): { width: number; height: number } | undefined {
  const { width, height } = facts;
  return width && height ? { width, height } : undefined;
}
