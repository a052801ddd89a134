import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import {
  AttachmentError,
  InvalidUploadError,
  STREAM_BUFFER_BYTES,
  UploadTimeoutError,
} from '../core/index.js';
import { multipartBoundary, PartHeaderGuard } from './part-headers.js';

/** The one file of a multipart request, while it streams, with the fields sent before it. */
export interface IncomingFile {
  /** The file's bytes; reading them is what lets the request go on. */
  stream: Readable;
  /** The filename as the client sent it (already checked for line breaks and separators). */
  filename: string | undefined;
  /** Text fields that came before the file part. */
  fields: Record<string, string>;
}

/** Less than this in a stretch of `idleTimeout` is a client that stopped or trickles. */
const MIN_BYTES_PER_STRETCH = 1024;

/** Form field holding the file: what Uppy's XHRUpload and the browser client send. */
const FIELD_NAME = 'file';

export interface ReceiveOptions {
  /** Milliseconds the body may go without a byte, while it is read, before the upload ends. */
  idleTimeout: number;
}

/**
 * Reads a `multipart/form-data` request that carries exactly one file, handing the file's stream
 * to `handle` as it arrives (never buffering it). When the request turns out to be malformed
 * after `handle` has stored something (a second file, a truncated body), `discard` undoes it.
 */
export function receiveSingleFile<T>(
  request: IncomingMessage,
  handle: (file: IncomingFile) => Promise<T>,
  discard: (result: T) => Promise<void>,
  options: ReceiveOptions,
): Promise<T> {
  const contentType = request.headers['content-type'] ?? '';
  if (!/^multipart\/form-data\s*;/i.test(contentType)) {
    throw new InvalidUploadError(
      `Expected a multipart/form-data body with the file in field "${FIELD_NAME}", got ${JSON.stringify(contentType || 'no Content-Type')}`,
    );
  }
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: request.headers,
      preservePath: true,
      defParamCharset: 'utf8',
      highWaterMark: STREAM_BUFFER_BYTES,
      fileHwm: STREAM_BUFFER_BYTES,
      limits: { files: 1, fields: 20, fieldSize: 4096, parts: 25, headerPairs: 20 },
    });
  } catch (error) {
    throw new InvalidUploadError(`Unreadable multipart header: ${(error as Error).message}`);
  }
  const guard = new PartHeaderGuard(multipartBoundary(contentType));

  return new Promise<T>((resolve, reject) => {
    const fields: Record<string, string> = {};
    let handled: Promise<T> | undefined;
    let current: Readable | undefined;
    let problem: InvalidUploadError | UploadTimeoutError | undefined;

    const fail = (error: InvalidUploadError | UploadTimeoutError) => {
      problem ??= error;
      // Only a file still arriving is cut; one already read is undone by `discard`.
      if (current && !current.readableEnded) current.destroy(problem);
    };

    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) fail(new InvalidUploadError(`Field "${name}" is too long`));
      else fields[name] = value;
    });
    parser.on('file', (name, stream, info) => {
      if (handled || name !== FIELD_NAME || problem) {
        stream.resume();
        if (!problem && name !== FIELD_NAME) {
          fail(
            new InvalidUploadError(
              `Unexpected file field "${name}"; send the file as "${FIELD_NAME}"`,
            ),
          );
        }
        return;
      }
      const filename = info.filename;
      if (filename !== undefined && /[\r\n\\/\0]/.test(filename)) {
        stream.resume();
        fail(
          new InvalidUploadError('The filename must not contain line breaks or path separators'),
        );
        return;
      }
      current = stream;
      // Errors of the file stream reach the caller through the handler's rejection; this
      // listener keeps one raised after the handler let go of the stream from going uncaught.
      stream.on('error', (error: Error) => {
        if (!(error instanceof InvalidUploadError)) {
          problem ??= new InvalidUploadError(`Malformed multipart body: ${error.message}`);
        }
      });
      handled = handle({ stream, filename, fields: { ...fields } });
      // A handler that fails (a size or type limit) answers at once: the rest of the body is
      // not read, and the error filter closes the connection.
      handled.then(
        () => finish(),
        (error: unknown) => settle(() => reject(problem && isStreamCause(error) ? problem : error)),
      );
    });
    parser.on('filesLimit', () =>
      fail(new InvalidUploadError('Send exactly one file per request')),
    );
    parser.on('partsLimit', () => fail(new InvalidUploadError('Too many parts in the form')));
    parser.on('fieldsLimit', () => fail(new InvalidUploadError('Too many fields in the form')));
    parser.on('error', (error: Error) => {
      fail(new InvalidUploadError(`Malformed multipart body: ${error.message}`));
      finish();
    });
    parser.on('close', () => {
      parsed = true;
      finish();
    });
    guard.on('error', (error: Error) => {
      fail(error instanceof InvalidUploadError ? error : new InvalidUploadError(error.message));
      finish();
    });
    // A client that disconnects mid-file leaves no complete body: the stored part is undone.
    request.on('close', () => {
      if (request.complete) return;
      fail(new InvalidUploadError('The upload was interrupted'));
      finish();
    });

    let parsed = false;
    let settled = false;
    function settle(action: () => void) {
      if (settled) return;
      settled = true;
      idle.stop();
      request.unpipe(guard);
      guard.unpipe(parser);
      action();
    }

    /** Resolves once both the body is parsed and the file handled, or at the first problem. */
    function finish() {
      if (settled) return;
      if (!handled) {
        if (problem || parsed) {
          settle(() =>
            reject(problem ?? new InvalidUploadError(`No file in field "${FIELD_NAME}"`)),
          );
        }
        return;
      }
      handled.then(
        (result) => {
          if (problem) {
            settle(() => void discard(result).finally(() => reject(problem)));
          } else if (parsed) {
            settle(() => resolve(result));
          }
        },
        () => undefined, // answered by the rejection handler above
      );
    }

    request.pipe(guard).pipe(parser);
    // Watched once piped: a 'data' listener of its own must not start the flow before the pipe.
    const idle = idleTimer(request, options.idleTimeout, () => {
      fail(new UploadTimeoutError(options.idleTimeout));
      finish();
    });
  });
}

/**
 * A slow client may not hold a request open for ever: each stretch of `timeout` ms while the
 * body is read must bring at least MIN_BYTES_PER_STRETCH bytes (or the body's end), or `expire`
 * is called. Time the request spends paused (the storage is slower than the client) does not
 * count, so only a client that stops sending, or trickles, runs the clock down.
 */
function idleTimer(request: IncomingMessage, timeout: number, expire: () => void) {
  let timer: NodeJS.Timeout | undefined;
  let received = 0;
  const stop = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  const stretch = () => {
    stop();
    received = 0;
    timer = setTimeout(() => {
      if (received < MIN_BYTES_PER_STRETCH) expire();
      else stretch();
    }, timeout);
  };
  const count = (chunk: Buffer) => {
    received += chunk.length;
    if (!timer) stretch();
  };
  request.on('data', count);
  request.on('resume', stretch);
  request.on('pause', stop);
  request.on('end', stop);
  if (!request.isPaused()) stretch();
  return {
    stop() {
      stop();
      request.off('data', count);
      request.off('resume', stretch);
      request.off('pause', stop);
      request.off('end', stop);
    },
  };
}

/**
 * Errors a handler sees only because the file stream failed under it (a parse error, a cut
 * connection), as opposed to its own verdict on the file (a size or type limit, a disk error).
 */
function isStreamCause(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  if (error instanceof AttachmentError && !(error instanceof InvalidUploadError)) return false;
  return error instanceof Error && (code === undefined || code === 'ERR_STREAM_PREMATURE_CLOSE');
}
