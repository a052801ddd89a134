import { AttachmentError } from '../core/index.js';

/**
 * The program a preview needs could not be started: not installed, or not at the `command`
 * path given. A fault of the server, not of the file: every preview of that kind fails alike.
 */
export class PreviewToolMissingError extends AttachmentError {
  readonly code = 'preview_tool_missing';

  constructor(
    /** The tool's usual name, e.g. `pdftoppm`. */
    readonly tool: string,
    /** What was run: the tool's name, looked up on PATH, or the path given as `command`. */
    readonly command: string,
    /** How to install it, e.g. `Debian: apt-get install poppler-utils`. */
    install: string,
    options?: { cause?: unknown },
  ) {
    const where = command === tool ? '' : ` at ${command}`;
    const reason = errnoCode(options?.cause);
    super(
      reason === 'ENOENT'
        ? `${tool} is not installed${where} (${install})`
        : `${tool}${where} could not be started (${reason ?? 'unknown reason'}; ${install})`,
      options,
    );
  }
}

/** A tool ran past the preview's `timeout`, and was killed. */
export class PreviewTimeoutError extends AttachmentError {
  readonly code = 'preview_timeout';

  constructor(
    readonly tool: string,
    /** Milliseconds. */
    readonly timeout: number,
  ) {
    super(`${tool} did not finish within the preview's timeout of ${timeout} ms and was killed`);
  }
}

/**
 * The file could not be turned into a preview: corrupt, truncated, encrypted, not of a type
 * the helper reads, or holding nothing to show. `message` carries what the tool said.
 */
export class PreviewFailedError extends AttachmentError {
  readonly code = 'preview_failed';

  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Preview could not be made: ${reason}`, options);
  }
}

/** The original is larger than the preview's `maxInputSize`: it is not copied for the tools. */
export class PreviewInputTooLargeError extends AttachmentError {
  readonly code = 'preview_input_too_large';

  constructor(
    readonly maxInputSize: number,
    /** When known before copying: the size recorded at upload. */
    readonly size?: number,
  ) {
    super(
      size === undefined
        ? `File is larger than the preview limit of ${maxInputSize} bytes (maxInputSize)`
        : `File is ${size} bytes, larger than the preview limit of ${maxInputSize} bytes (maxInputSize)`,
    );
  }
}

function errnoCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
