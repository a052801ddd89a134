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
