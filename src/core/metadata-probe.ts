import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { fileTypeFromBuffer } from 'file-type';
import { imageSize } from 'image-size';
import { FileTooLargeError } from './errors/index.js';
import { HEAD_BYTES, HeadBytes } from './head-bytes.js';
import { ImageStructure } from './image-structure.js';
import { STREAM_BUFFER_BYTES } from './stream-buffer.js';
import type { FileMetadata } from './uploaded-file.js';
import { checkPixels } from './validation.js';
const OCTET_STREAM = 'application/octet-stream';

/** What a probe refuses as the bytes flow, before the file is whole. */
export interface ProbeLimits {
  /** Bytes past which the stream fails with FileTooLargeError. */
  maxSize?: number;
  /** Pixels an image's header may declare; more fail the stream with ImageTooLargeError. */
  maxPixels?: number;
}

/** The first dimension read is tried at this many head bytes, then at each doubling. */
const FIRST_DIMENSIONS_TRY = 32;

/**
 * A pass-through stream that measures what flows through it: size, SHA-256, and the head of the
 * file for type and dimension detection. A file that starts as a PNG, JPEG, GIF or WebP must
 * also be one whole image of that type, checked as it streams (MalformedImageError). Memory use
 * is bounded by HEAD_BYTES whatever the size.
 */
export class MetadataProbe extends Transform {
  private size = 0;
  private readonly hash: Hash = createHash('sha256');
  private readonly head = new HeadBytes();
  private readonly structure = new ImageStructure();
  private nextDimensionsTry: number | null;

  constructor(private readonly limits: ProbeLimits = {}) {
    super({ highWaterMark: STREAM_BUFFER_BYTES });
    this.nextDimensionsTry = limits.maxPixels === undefined ? null : FIRST_DIMENSIONS_TRY;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    const { maxSize = Infinity } = this.limits;
    if (this.size > maxSize) {
      done(new FileTooLargeError(maxSize));
      return;
    }
    try {
      this.hash.update(chunk);
      this.head.take(chunk);
      this.structure.write(chunk);
      this.checkPixels(false);
    } catch (error) {
      done(error as Error);
      return;
    }
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    try {
      this.structure.end();
      this.checkPixels(true);
    } catch (error) {
      done(error as Error);
      return;
    }
    done();
  }

  /** Call after the stream has finished. */
  async metadata(filename: string | null): Promise<FileMetadata> {
    return {
      filename,
      size: this.size,
      ...(await describeHead(this.head.bytes())),
      sha256: this.hash.digest('hex'),
    };
  }

  /**
   * Refuses an image that declares too many pixels as soon as the head shows its dimensions,
   * so a decompression bomb is cut off before it is stored. Tried at doubling head sizes, so
   * a stream of tiny chunks costs no more than a few reads of the head.
   */
  private checkPixels(last: boolean): void {
    const at = this.nextDimensionsTry;
    if (at === null) return;
    const length = Math.min(this.size, HEAD_BYTES);
    if (!last && length < at && length < HEAD_BYTES) return;
    const dimensions = readDimensions(this.head.bytes());
    const found = dimensions.width !== undefined && dimensions.height !== undefined;
    this.nextDimensionsTry = found || length >= HEAD_BYTES ? null : Math.max(at, length) * 2;
    checkPixels(dimensions, this.limits.maxPixels);
  }
}

/** Type and, for images, dimensions, judged from the first bytes of a file. */
export async function describeHead(
  head: Buffer,
): Promise<Pick<FileMetadata, 'mimeType' | 'width' | 'height'>> {
  const { mimeType } = await detectType(head);
  return { mimeType, ...(mimeType.startsWith('image/') ? readDimensions(head) : {}) };
}

/**
 * The extension (with its dot) of the type the first bytes of a file show, the same judgement
 * as `describeHead`; '' for bytes of no known type, so no name claims one.
 */
export async function measuredExtension(head: Buffer): Promise<string> {
  return (await detectType(head)).extension;
}

async function detectType(head: Buffer): Promise<{ mimeType: string; extension: string }> {
  if (head.length === 0) return { mimeType: OCTET_STREAM, extension: '' };
  const detected = await fileTypeFromBuffer(head);
  if (detected) return { mimeType: detected.mime, extension: `.${detected.ext}` };
  return looksLikeText(head)
    ? { mimeType: 'text/plain', extension: '.txt' }
    : { mimeType: OCTET_STREAM, extension: '' };
}

function looksLikeText(head: Buffer): boolean {
  if (head.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    return true;
  } catch {
    return false;
  }
}

function readDimensions(head: Buffer): { width?: number; height?: number } {
  try {
    // A copy with its own memory: image-size reads the backing ArrayBuffer, which for a small
    // Buffer is Node's shared pool, beyond the bytes the head holds.
    const { width, height, orientation } = imageSize(new Uint8Array(head));
    // EXIF orientations 5 to 8 rotate by 90 degrees: report the size as the image is shown.
    const rotated = orientation !== undefined && orientation >= 5;
    return rotated ? { width: height, height: width } : { width, height };
  } catch {
    // Dimensions beyond the head, or a format image-size does not read: leave them out.
    return {};
  }
}
