import { AttachmentError } from './attachment.error.js';

/** The file is over `maxSize`, measured on its bytes. */
export class FileTooLargeError extends AttachmentError {
  readonly code = 'file_too_large';

  constructor(
    readonly maxSize: number,
    readonly size?: number,
  ) {
    super(
      size === undefined
        ? `File is larger than the limit of ${maxSize} bytes`
        : `File is ${size} bytes, larger than the limit of ${maxSize} bytes`,
    );
  }
}

/** The type judged from the file's bytes is not in `allowedTypes`. */
export class FileTypeNotAllowedError extends AttachmentError {
  readonly code = 'file_type_not_allowed';

  constructor(
    readonly mimeType: string,
    readonly allowed: readonly string[],
  ) {
    super(
      `File type ${mimeType} (judged from its bytes) is not allowed; allowed: ${allowed.join(', ')}`,
    );
  }
}

/** An `@Attachments()` list would hold more files than its `maxCount`. */
export class TooManyFilesError extends AttachmentError {
  readonly code = 'too_many_files';

  constructor(readonly maxCount: number) {
    super(`This list holds at most ${maxCount} files`);
  }
}

/** An empty file, where the attachment does not say `allowEmpty: true`. */
export class EmptyFileError extends AttachmentError {
  readonly code = 'empty_file';

  constructor() {
    super('File is empty; this attachment does not allow empty files (`allowEmpty`)');
  }
}

const count = new Intl.NumberFormat('en-US');

/**
 * An image whose header declares more pixels than the limit: a decompression bomb, or merely a
 * huge photo. It is refused from the header alone, before any pixel is decoded.
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

/**
 * A file whose bytes start as an image (PNG, JPEG, GIF or WebP) but are not one whole image of
 * that type: truncated, corrupt, or followed by other bytes (a polyglot).
 */
export class MalformedImageError extends AttachmentError {
  readonly code = 'malformed_image';

  constructor(
    readonly format: string,
    readonly reason: string,
  ) {
    super(`File starts as a ${format} image but is not a whole one: ${reason}`);
  }
}

/** The dimension rules of an attachment, as its options name them. */
export type DimensionRule = 'minWidth' | 'maxWidth' | 'minHeight' | 'maxHeight';

const RULE_WORDS: Record<DimensionRule, string> = {
  minWidth: 'a width of at least',
  maxWidth: 'a width of at most',
  minHeight: 'a height of at least',
  maxHeight: 'a height of at most',
};

/**
 * An image outside the attachment's `minWidth`, `maxWidth`, `minHeight` or `maxHeight`, or one
 * whose dimensions could not be read while the attachment has such a rule (then `width` and
 * `height` are undefined).
 */
export class ImageDimensionsError extends AttachmentError {
  readonly code = 'image_dimensions';

  constructor(
    readonly rule: DimensionRule,
    readonly limit: number,
    readonly width?: number,
    readonly height?: number,
  ) {
    const measured =
      width === undefined || height === undefined
        ? 'Image dimensions could not be read'
        : `Image is ${width}x${height}`;
    super(`${measured}; this attachment needs ${RULE_WORDS[rule]} ${limit} px`);
  }
}
