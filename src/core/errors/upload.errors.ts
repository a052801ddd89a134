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

/**
 * An upload that names no attachment, while the module accepts none without one (no
 * `upload.unnamed` rules): the rules a file is held to come from the attachment it is for.
 */
export class AttachmentRequiredError extends AttachmentError {
  readonly code = 'attachment_required';

  constructor() {
    super(
      'Name the attachment this upload is for: ?entity=Photo&attachment=image, or form fields ' +
        '"entity" and "attachment" sent before the file. (An app that accepts uploads for no ' +
        'attachment opts in with the module option `upload.unnamed: { allowedTypes, maxSize }`.)',
    );
  }
}
