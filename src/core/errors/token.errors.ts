import { AttachmentError } from './attachment.error.js';

/** Malformed, forged or tampered token, or one that names a file the cache cannot hold. */
export class InvalidTokenError extends AttachmentError {
  readonly code = 'invalid_token';

  constructor(reason: string) {
    super(`Invalid upload token: ${reason}`);
  }
}

/** The upload token's `tokenTtl` has passed. */
export class ExpiredTokenError extends AttachmentError {
  readonly code = 'expired_token';

  constructor(readonly expiredAt: Date) {
    super(`Upload token expired at ${expiredAt.toISOString()}; upload the file again`);
  }
}

/** The cached file was already attached: a token works once. */
export class TokenAlreadyUsedError extends AttachmentError {
  readonly code = 'token_already_used';

  constructor(readonly fileId: string) {
    super(`Upload token for cached file "${fileId}" was already attached; a token works once`);
  }
}

/** The token was issued to another uploader than the one attaching it. */
export class TokenOwnerMismatchError extends AttachmentError {
  readonly code = 'token_owner_mismatch';

  constructor() {
    super('Upload token was issued to another uploader');
  }
}
