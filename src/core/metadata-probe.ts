import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { fileTypeFromBuffer } from 'file-type';
import { imageSize } from 'image-size';
import { FileTooLargeError } from './errors/index.js';
import { HeadBytes } from './head-bytes.js';
import type { FileMetadata } from './uploaded-file.js';
const OCTET_STREAM = 'application/octet-stream';

/**
 * A pass-through stream that measures what flows through it: size, SHA-256, and the head of the
 * file for type and dimension detection. Memory use is bounded by HEAD_BYTES whatever the size.
 */
export class MetadataProbe extends Transform {
  private size = 0;
  private readonly hash: Hash = createHash('sha256');
  private readonly head = new HeadBytes();

  constructor(private readonly maxSize = Infinity) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxSize) {
      done(new FileTooLargeError(this.maxSize));
      return;
    }
    this.hash.update(chunk);
    this.head.take(chunk);
    done(null, chunk);
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
