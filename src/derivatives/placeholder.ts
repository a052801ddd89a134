import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type sharpModule from 'sharp';
import {
  AttachmentConfigurationError,
  ImageTooLargeError,
  isMissingPackage,
  type FileMetadata,
  type ImagePlaceholder,
} from '../core/index.js';
import { ImageProcessingError } from './image.errors.js';
import { DEFAULT_MAX_INPUT_PIXELS } from './image-limits.js';

/**
 * Placeholders: a ThumbHash or a BlurHash of an image, small enough to keep in its metadata.
 * sharp and the encoders are optional peers, loaded on first use only, so an app that asks for
 * no placeholder never loads them.
 */

type PlaceholderType = ImagePlaceholder['type'];

/**
 * The longest side of the picture a hash is made from. ThumbHash takes at most 100 px; a
 * BlurHash keeps only a few colour components, which a few dozen pixels already give.
 */
const ENCODED_SIDE: Record<PlaceholderType, number> = { thumbhash: 100, blurhash: 32 };

/** The package that encodes and decodes each type. */
const PACKAGE: Record<PlaceholderType, string> = { thumbhash: 'thumbhash', blurhash: 'blurhash' };

type SharpFactory = typeof sharpModule;

interface Codec {
  encode(width: number, height: number, rgba: Uint8Array): string;
  decode(placeholder: ImagePlaceholder): { width: number; height: number; rgba: Uint8Array };
}

async function loadSharp(): Promise<SharpFactory> {
  try {
    return (await import('sharp')).default;
  } catch (error) {
    throw missing(error, 'sharp');
  }
}

async function loadCodec(type: PlaceholderType): Promise<Codec> {
  try {
    if (type === 'thumbhash') {
      const { rgbaToThumbHash, thumbHashToRGBA } = await import('thumbhash');
      return {
        encode: (width, height, rgba) =>
          Buffer.from(rgbaToThumbHash(width, height, rgba)).toString('base64'),
        decode: ({ hash }) => {
          const { w, h, rgba } = thumbHashToRGBA(Buffer.from(hash, 'base64'));
          return { width: w, height: h, rgba };
        },
      };
    }
    const { decode, encode } = await import('blurhash');
    return {
      encode: (width, height, rgba) => {
        const pixels = new Uint8ClampedArray(rgba.buffer, rgba.byteOffset, rgba.length);
        return encode(pixels, width, height, ...blurComponents(width, height));
      },
      decode: ({ hash, width, height }) => {
        const pixels = decode(hash, width, height);
        return {
          width,
          height,
          rgba: new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.length),
        };
      },
    };
  } catch (error) {
    throw missing(error, PACKAGE[type]);
  }
}

/** Four components along the longer side and as many along the other as its share gives. */
function blurComponents(width: number, height: number): [number, number] {
  const longer = Math.max(width, height);
  const along = (side: number) => Math.max(1, Math.round((4 * side) / longer));
  return [along(width), along(height)];
}

function missing(error: unknown, name: string): unknown {
  if (!isMissingPackage(error)) return error;
  return new AttachmentConfigurationError(
    `Placeholders of this type need the \`${name}\` package; run \`npm install ${name}\``,
    { cause: error },
  );
}

/**
 * Loads what a type of placeholder needs (sharp and its encoder), so that a missing package is
 * reported at startup rather than skipped in every promotion. `where` names the attachment.
 */
export async function checkPlaceholderPackages(type: unknown, where: string): Promise<void> {
  if (type !== 'thumbhash' && type !== 'blurhash') {
    throw new AttachmentConfigurationError(
      `${where}: \`placeholder\` must be 'thumbhash' or 'blurhash'; got ${String(type)}`,
    );
  }
  try {
    await Promise.all([loadSharp(), loadCodec(type)]);
  } catch (error) {
    if (!(error instanceof AttachmentConfigurationError)) throw error;
    throw new AttachmentConfigurationError(`${where}: ${error.message}`, { cause: error });
  }
}

/** Whether a file is one a placeholder is made of: an image whose dimensions were read. */
export function takesPlaceholder(metadata: FileMetadata): boolean {
  return (
    metadata.mimeType.toLowerCase().startsWith('image/') &&
    metadata.width !== undefined &&
    metadata.height !== undefined
  );
}

/**
 * The placeholder of an image: decoded (at most `maxInputPixels`, judged from its header before
 * any pixel is decoded), turned upright, shrunk and hashed. Consumes `stream`. Rejects with
 * ImageTooLargeError or ImageProcessingError for the image, and with the stream's own error
 * when reading it fails.
 */
export async function makePlaceholder(
  stream: Readable,
  metadata: FileMetadata,
  options: { type: PlaceholderType; maxInputPixels?: number },
): Promise<ImagePlaceholder> {
  const { type, maxInputPixels = DEFAULT_MAX_INPUT_PIXELS } = options;
  const { width = 0, height = 0 } = metadata;
  if (width * height > maxInputPixels) {
    stream.destroy();
    throw new ImageTooLargeError(maxInputPixels, { width, height });
  }
  const [sharp, codec] = await Promise.all([loadSharp(), loadCodec(type)]);
  const side = ENCODED_SIDE[type];
  const image = sharp({ limitInputPixels: maxInputPixels });
  // A storage failure rejects `fed`; sharp then waits for an end that never comes, harmlessly.
  const fed = pipeline(stream, image);
  const shrunk = image
    .autoOrient()
    .resize(side, side, { fit: 'inside', withoutEnlargement: true })
    .toColourspace('srgb')
    .ensureAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true })
    .catch((error: unknown) => {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ImageProcessingError(reason, { cause: error });
    });
  const [, { data, info }] = await Promise.all([fed, shrunk]);
  return {
    type,
    hash: codec.encode(info.width, info.height, data),
    width: info.width,
    height: info.height,
  };
}

/**
 * The placeholder of a file's metadata as a `data:image/png;base64,...` URL, for an `<img>` or
 * a CSS background while the image loads; null when the metadata holds none. Made on the
 * server with sharp and the placeholder's package; a browser can decode the hash itself with
 * the same package instead.
 */
export async function placeholderDataUrl(
  metadata: Pick<FileMetadata, 'placeholder'>,
): Promise<string | null> {
  const { placeholder } = metadata;
  if (!placeholder) return null;
  const [sharp, codec] = await Promise.all([loadSharp(), loadCodec(placeholder.type)]);
  const { width, height, rgba } = codec.decode(placeholder);
  const png = await sharp(Buffer.from(rgba.buffer, rgba.byteOffset, rgba.length), {
    raw: { width, height, channels: 4 },
  })
    .png()
    .toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}
