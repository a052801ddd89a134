import { AttachmentError } from '../core/index.js';

const count = new Intl.NumberFormat('en-US');

/**
 * An image whose header declares more pixels than the processor may decode: a decompression bomb,
 * or merely a huge photo. It is rejected from the header alone, before any pixel is decoded.
 */
export class ImageTooLargeError extends AttachmentError {
  readonly code = 'image_too_large';
  /** width × height, when the header could be read. */
  readonly pixels?: number;

  constructor(
    readonly limit: number,
    readonly dimensions?: { width: number; height: number },
    options?: { cause?: unknown },
  ) {
    super(
      dimensions
        ? `Image is ${dimensions.width}x${dimensions.height} = ` +
            `${count.format(dimensions.width * dimensions.height)} pixels, ` +
            `more than the limit of ${count.format(limit)}`
        : `Image has more pixels than the limit of ${count.format(limit)}`,
      options,
    );
    this.pixels = dimensions && dimensions.width * dimensions.height;
  }
}

/** Input the image library cannot process: corrupt, truncated, or not an image it reads. */
export class ImageProcessingError extends AttachmentError {
  readonly code = 'image_processing_failed';

  constructor(reason: string, options?: { cause?: unknown }) {
    super(`Image could not be processed: ${reason}`, options);
  }
}
