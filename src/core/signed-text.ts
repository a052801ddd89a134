import { timingSafeEqual } from 'node:crypto';
import { InvalidTokenError } from './errors/index.js';

/**
 * Whether a signature as the client sent it is the expected one, in constant time. Compared as
 * text: decoding base64url skips stray characters and unused bits, so several strings decode to
 * the same MAC; only the one canonical spelling is accepted.
 */
export function sameSignature(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The JSON a signed token's base64url body holds, or InvalidTokenError(`notJson`). */
export function decodeSignedBody(body: string, notJson: string): unknown {
  try {
    return JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidTokenError(notJson);
  }
}
