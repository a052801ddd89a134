/**
 * Previews of documents and videos, drawn by programs of the system and encoded by sharp as the
 * image helpers encode: `pdfPreview` (Poppler's pdftoppm and pdfinfo) and `videoPoster` (ffmpeg
 * and ffprobe). Each returns a DerivativeFunction. The original is copied to a private
 * temporary folder, because the tools need a file they can seek in, and the folder is removed
 * when the preview is made or fails. Each tool is killed when it runs past `timeout`.
 */
export { pdfPreview } from './pdf-preview.js';
export type { PdfPreviewOptions } from './pdf-preview.js';
export { videoPoster } from './video-poster.js';
export type { VideoPosterOptions } from './video-poster.js';
export type { PreviewOptions } from './preview-options.js';
export {
  PreviewFailedError,
  PreviewInputTooLargeError,
  PreviewTimeoutError,
  PreviewToolMissingError,
} from './preview.errors.js';
export { ImageTooLargeError } from './image.errors.js';
