import { AttachmentError } from './attachment.error.js';

/** A multipart request that cannot be read as one file upload: say what was wrong with it. */
export class InvalidUploadError extends AttachmentError {
  readonly code = 'invalid_upload';
}

/** An upload whose client stopped sending, or sent next to nothing, for `upload.idleTimeout`. */
export class UploadTimeoutError extends AttachmentError {
  readonly code = 'upload_timeout';

  constructor(readonly idleTimeout: number) {
    super(`The upload stalled: less than 1 KiB arrived in ${idleTimeout} ms`);
  }
}

/** A request to the files endpoint whose signature is missing, wrong or expired. */
export class InvalidFileUrlError extends AttachmentError {
  readonly code = 'invalid_file_url';
}
