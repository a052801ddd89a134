import { MalformedImageError } from './errors/index.js';

/**
 * What a parser asks for next: a fixed-size field (a header it reads), a body of known length
 * (seen chunk by chunk, never gathered), or a scan that consumes bytes until it finds its end.
 */
type Step =
  | { kind: 'field'; size: number; then: (bytes: Buffer) => void }
  | { kind: 'body'; left: number; each?: (bytes: Buffer) => void; then: () => void }
  | { kind: 'scan'; scan: (bytes: Buffer) => number };

/**
 * Base of the streaming checks of a file's structure: a format states its steps, and the bytes
 * are fed through them as they arrive. Only the field being read is held (a few bytes), so
 * memory stays flat whatever the file's size. Once the format's end is reached, any further
 * byte is an error: a whole image is followed by nothing.
 */
export abstract class StructureParser {
  private step: Step = { kind: 'field', size: 0, then: () => undefined };
  private held: Buffer[] = [];
  private heldLength = 0;
  private ended = false;

  /** `format` names the image type in messages; the subclass sets its first step. */
  protected constructor(readonly format: string) {}

  /** Feeds the next bytes of the file; throws MalformedImageError at the first fault. */
  write(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.ended) this.fail(`${chunk.length - at} or more bytes after the end of the image`);
      const step = this.step;
      if (step.kind === 'body') {
        const part = chunk.subarray(at, at + step.left);
        step.each?.(part);
        step.left -= part.length;
        at += part.length;
        if (step.left === 0) step.then();
      } else if (step.kind === 'scan') {
        at += step.scan(chunk.subarray(at));
      } else {
        const part = chunk.subarray(at, at + step.size - this.heldLength);
        this.held.push(part);
        this.heldLength += part.length;
        at += part.length;
        if (this.heldLength === step.size) {
          const field = Buffer.concat(this.held, this.heldLength);
          this.held = [];
          this.heldLength = 0;
          step.then(field);
        }
      }
    }
  }

  /** Call when the file has no more bytes; throws if the image did not reach its end. */
  end(): void {
    if (!this.ended) this.fail('the file ends before the image does (truncated)');
  }

  /** Reads the next `size` bytes as one field. */
  protected field(size: number, then: (bytes: Buffer) => void): void {
    this.step = { kind: 'field', size, then };
  }

  /** Passes the next `size` bytes, chunk by chunk, to `each`; then goes on with `then`. */
  protected body(size: number, then: () => void, each?: (bytes: Buffer) => void): void {
    if (size === 0) then();
    else this.step = { kind: 'body', left: size, each, then };
  }

  /** Hands every byte to `scan`, which says how many it consumed, until it sets another step. */
  protected scan(scan: (bytes: Buffer) => number): void {
    this.step = { kind: 'scan', scan };
  }

  /** The image is complete: nothing may follow. */
  protected finish(): void {
    this.ended = true;
  }

  protected fail(reason: string): never {
    throw new MalformedImageError(this.format, reason);
  }
}
