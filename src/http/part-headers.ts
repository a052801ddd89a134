import { Transform, type TransformCallback } from 'node:stream';
import { InvalidUploadError, STREAM_BUFFER_BYTES } from '../core/index.js';

/** Past this, a part's header is busboy's to refuse (its own limit is 16 KiB). */
const MAX_HEADER_BYTES = 32 * 1024;
const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * A pass-through for a multipart body that refuses ambiguous parts before the parser sees
 * them: a header given twice (two Content-Disposition lines) or a Content-Disposition parameter
 * given twice (`filename` or `name`). busboy keeps the first of each and hides the rest, so a
 * check downstream of it could not tell; two readers of one request could each pick another.
 */
export class PartHeaderGuard extends Transform {
  private readonly delimiter: Buffer;
  /** Bytes at the end of what was scanned that may begin the next delimiter or header end. */
  private pending: Buffer;
  private state: 'body' | 'header' | 'done' = 'body';

  /** Without a boundary it reads, it checks nothing and leaves the body to the parser. */
  constructor(boundary: string | undefined) {
    super({ highWaterMark: STREAM_BUFFER_BYTES });
    if (!boundary) this.state = 'done';
    this.delimiter = Buffer.from(`\r\n--${boundary ?? ''}`, 'latin1');
    // The first delimiter may open the body, with no line break before it.
    this.pending = Buffer.from('\r\n');
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.state === 'body' && this.passedWithoutDelimiter(chunk)) {
      done(null, chunk);
      return;
    }
    if (this.state !== 'done') {
      const problem = this.scan(Buffer.concat([this.pending, chunk]));
      if (problem) {
        this.state = 'done';
        done(new InvalidUploadError(problem));
        return;
      }
    }
    done(null, chunk);
  }

  /**
   * Most chunks of a file hold no delimiter: those are passed on without copying them into a
   * window with what came before, checking only the seam for a delimiter cut in two. False
   * (nothing consumed) when a delimiter may be there, for `scan` to take the chunk.
   */
  private passedWithoutDelimiter(chunk: Buffer): boolean {
    const seamLength = this.delimiter.length - 1;
    // `pending` holds at most seamLength bytes in the body: a delimiter that starts in it
    // ends within the chunk's first seamLength bytes.
    const seam = Buffer.concat([this.pending, chunk.subarray(0, seamLength)]);
    if (seam.includes(this.delimiter) || chunk.includes(this.delimiter)) return false;
    // A copy: a view would keep the whole chunk in memory until the next one.
    this.pending = Buffer.from((chunk.length >= seamLength ? chunk : seam).subarray(-seamLength));
    return true;
  }

  /** Walks the body's delimiters and part headers; returns what is wrong, if anything. */
  private scan(window: Buffer): string | undefined {
    let at = 0;
    for (;;) {
      if (this.state === 'body') {
        const found = window.indexOf(this.delimiter, at);
        if (found < 0) {
          const keep = Math.max(at, window.length - this.delimiter.length + 1);
          this.pending = window.subarray(keep);
          return undefined;
        }
        at = found + this.delimiter.length;
        this.state = 'header';
      }
      if (this.state === 'header') {
        const end = window.indexOf(HEADER_END, at);
        if (end < 0) {
          this.pending = window.subarray(at);
          if (this.pending.length > MAX_HEADER_BYTES) this.state = 'done';
          return undefined;
        }
        const text = window.toString('latin1', at, end);
        // `--` after the delimiter closes the body: nothing past it is a part.
        if (text.startsWith('--')) {
          this.state = 'done';
          return undefined;
        }
        const problem = ambiguity(text);
        if (problem) return problem;
        at = end + HEADER_END.length;
        this.state = 'body';
      }
      if (this.state === 'done') return undefined;
    }
  }
}

/** The boundary of a `multipart/form-data` Content-Type, quoted or not. */
export function multipartBoundary(contentType: string): string | undefined {
  const match = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^\s;]+))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

/** What makes a part's header ambiguous, given its text after the delimiter line. */
function ambiguity(text: string): string | undefined {
  const lines: string[] = [];
  // The first line is the rest of the delimiter's line (transport padding at most).
  for (const line of text.split('\r\n').slice(1)) {
    // A line that starts with a space or tab continues the one before (obsolete line folding).
    if (/^[ \t]/.test(line) && lines.length > 0) lines[lines.length - 1] += line;
    else lines.push(line);
  }
  const seen = new Set<string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (seen.has(name)) return `A part gives the header "${line.slice(0, colon).trim()}" twice`;
    seen.add(name);
    if (name === 'content-disposition') {
      const repeated = repeatedParameter(line.slice(colon + 1));
      if (repeated) {
        return `A part's Content-Disposition gives the parameter "${repeated}" twice`;
      }
    }
  }
  return undefined;
}

/** The first parameter name that occurs twice in `type; a=1; b="x;y"`, compared without case. */
function repeatedParameter(value: string): string | undefined {
  const names = new Set<string>();
  let at = value.indexOf(';');
  while (at >= 0 && at < value.length) {
    at += 1; // past the ';'
    const equals = value.indexOf('=', at);
    const semicolon = value.indexOf(';', at);
    const nameEnd = equals >= 0 && (semicolon < 0 || equals < semicolon) ? equals : semicolon;
    const name = value
      .slice(at, nameEnd < 0 ? undefined : nameEnd)
      .trim()
      .toLowerCase();
    if (name) {
      if (names.has(name)) return name;
      names.add(name);
    }
    if (nameEnd < 0) return undefined;
    at = nameEnd;
    if (value[at] === '=') at = skipValue(value, at + 1);
    at = value.indexOf(';', at);
  }
  return undefined;
}

/** The index just past a parameter value that starts at `at`: a quoted string or a token. */
function skipValue(value: string, at: number): number {
  let index = at;
  while (value[index] === ' ' || value[index] === '\t') index += 1;
  if (value[index] !== '"') return index;
  index += 1;
  while (index < value.length && value[index] !== '"') index += value[index] === '\\' ? 2 : 1;
  return index + 1;
}
