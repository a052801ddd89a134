/**
 * Base class of every error this library throws on purpose. `code` is stable and meant for
 * programs (an HTTP layer maps it to a status); `message` is meant for people.
 */
export abstract class AttachmentError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The module or a decorator was configured in a way that cannot work. */
export class AttachmentConfigurationError extends AttachmentError {
  readonly code = 'configuration';
}
