import { AttachmentError } from '../core/index.js';

// Refused uploads and refused decodes are one error: the same bomb, caught earlier or later.
export { ImageTooLargeError } from '../core/index.js';

/** Input the image library cannot process: corrupt, truncated, or not an image it reads. */
export class ImageProcessingError extends AttachmentError {
  readonly code = 'image_processing_failed';

  constructor(reason: string, options?: { cause?: unknown }) {
    super(`Image could not be processed: ${reason}`, options);
  }
}
