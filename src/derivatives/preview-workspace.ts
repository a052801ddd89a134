import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { FileTooLargeError } from '../core/index.js';
import { byteLimit } from '../storage/index.js';
import type {
  DerivativeFunction,
  DerivativeInput,
  DerivativeOutput,
} from './derivative-processor.interface.js';
import { PreviewFailedError, PreviewInputTooLargeError } from './preview.errors.js';

/** What every preview's private folder is called, followed by random characters. */
export const PREVIEW_FOLDER_PREFIX = 'nestjs-attachments-preview-';

/** The original's copy, in that folder, where the tools run: they are given this name. */
export const INPUT_FILE = 'input';

export interface WorkspaceLimits {
  maxInputSize: number;
  /** The folder to make the private folder in; default os.tmpdir(). */
  tempDirectory?: string;
}

/**
 * Copies the original into a private folder (mode 0700, made by mkdtemp) as INPUT_FILE, because
 * the tools need a file they can seek in, then runs `work` on it. The folder and all in it
 * are removed afterwards, whatever happened. The path is ours: no client filename is used.
 */
export async function withInputFile<T>(
  input: DerivativeInput,
  limits: WorkspaceLimits,
  work: (folder: string) => Promise<T>,
): Promise<T> {
  const { maxInputSize } = limits;
  if (input.metadata.size > maxInputSize) {
    // The size recorded at upload already says no: spare the download.
    input.stream.destroy();
    throw new PreviewInputTooLargeError(maxInputSize, input.metadata.size);
  }
  const folder = await mkdtemp(join(limits.tempDirectory ?? tmpdir(), PREVIEW_FOLDER_PREFIX)).catch(
    (error: unknown) => {
      input.stream.destroy();
      throw error;
    },
  );
  try {
    await pipeline(
      input.stream,
      byteLimit(maxInputSize),
      createWriteStream(join(folder, INPUT_FILE), { flags: 'wx', mode: 0o600 }),
    ).catch((error: unknown) => {
      throw error instanceof FileTooLargeError
        ? new PreviewInputTooLargeError(maxInputSize)
        : error;
    });
    return await work(folder);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/**
 * The image a tool wrote, at `file`, resized and encoded by the image helpers (`finish`), so
 * previews come out as thumbnails do: the same formats, no metadata. A tool that exited well
 * but wrote nothing (ffmpeg past a video's last frame) fails with `nothing`.
 */
export async function encodeRendered(
  file: string,
  finish: DerivativeFunction,
  nothing: string,
): Promise<DerivativeOutput> {
  const size = await stat(file).then(
    (facts) => facts.size,
    () => 0,
  );
  if (size === 0) throw new PreviewFailedError(nothing);
  const metadata = { filename: null, size, mimeType: 'image/png' };
  return finish({ stream: createReadStream(file), metadata });
}
