import { AttachmentError } from '../core/index.js';

/**
 * An on-demand derivative URL whose derivative cannot be had: its name is not declared
 * `onDemand` on that attachment, or the record is gone or no longer holds the original.
 */
export class DerivativeNotFoundError extends AttachmentError {
  readonly code = 'derivative_not_found';
}

/**
 * The endpoint cannot make this derivative now: its makings and their queue are full, or its
 * making ran past `derivatives.onDemand.timeout`. `retryAfter` is in seconds.
 */
export class DerivativeBusyError extends AttachmentError {
  readonly code = 'derivative_busy';

  constructor(
    message: string,
    readonly retryAfter: number,
  ) {
    super(message);
  }
}
