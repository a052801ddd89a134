import { AttachmentError } from './attachment.error.js';

/** An id that is empty, absolute, contains `..`, NUL, backslashes or control characters. */
export class InvalidFileIdError extends AttachmentError {
  readonly code = 'invalid_file_id';

  constructor(
    readonly id: string,
    reason: string,
  ) {
    super(`Invalid file id ${JSON.stringify(id)}: ${reason}`);
  }
}

/** A token or URL names a file its storage does not have. */
export class FileNotFoundError extends AttachmentError {
  readonly code = 'file_not_found';

  constructor(
    readonly id: string,
    readonly storage?: string,
  ) {
    super(`File ${JSON.stringify(id)} not found${storage ? ` in storage "${storage}"` : ''}`);
  }
}
