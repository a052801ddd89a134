/**
 * One upload by Node's global `fetch`, from a process of its own: a client that shares the
 * server's event loop reads an answer before the server's close reaches it, and so hides what
 * a real client sees. Takes a JSON `FetchUpload` as its argument and prints one JSON line, a
 * `FetchOutcome`.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface FetchUpload {
  url: string;
  /** Default `POST`. */
  method?: string;
  contentType: string;
  /** More request headers. */
  headers?: Record<string, string>;
  /** The body in order: a string is bytes in base64, a number that many bytes of filler. */
  body: (string | number)[];
  /** Send the body whole, with its Content-Length; otherwise as a stream, without one. */
  contentLength: boolean;
}

export type FetchOutcome =
  { status: number; body: Record<string, unknown> } | { error: string; cause: string };

const FILLER = Buffer.alloc(256 * 1024, 1);

function chunksOf(upload: FetchUpload): Buffer[] {
  const chunks: Buffer[] = [];
  for (const piece of upload.body) {
    if (typeof piece === 'string') chunks.push(Buffer.from(piece, 'base64'));
    else for (let sent = 0; sent < piece; sent += FILLER.length) chunks.push(FILLER);
  }
  return chunks;
}

async function run(upload: FetchUpload): Promise<FetchOutcome> {
  const chunks = chunksOf(upload);
  const body = upload.contentLength
    ? Buffer.concat(chunks)
    : new ReadableStream<Uint8Array>({
        pull(controller) {
          const next = chunks.shift();
          if (next) controller.enqueue(new Uint8Array(next));
          else controller.close();
        },
      });
  try {
    const answer = await fetch(upload.url, {
      method: upload.method ?? 'POST',
      headers: { ...upload.headers, 'content-type': upload.contentType },
      body,
      duplex: 'half',
    });
    return { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
  } catch (error) {
    const { message, cause } = error as Error;
    return { error: message, cause: String((cause as Error | undefined)?.message ?? cause) };
  }
}

/** Runs the upload in a child process and resolves with what its fetch saw. */
export function fetchUpload(upload: FetchUpload): Promise<FetchOutcome> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [fileURLToPath(import.meta.url), JSON.stringify(upload)],
      { maxBuffer: 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as FetchOutcome);
      },
    );
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const upload = JSON.parse(process.argv[2] ?? '') as FetchUpload;
  process.stdout.write(`${JSON.stringify(await run(upload))}\n`);
}
