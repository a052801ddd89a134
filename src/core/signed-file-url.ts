import { createHmac } from 'node:crypto';
import { InvalidFileUrlError } from './errors/index.js';
import { sameSignature } from './signed-text.js';

/** What a signed files-endpoint URL grants: one file, with one download name, until `expires`. */
export interface FileUrlGrant {
  storage: string;
  id: string;
  /** Milliseconds since the epoch. */
  expires: number;
  filename?: string;
}

// A prefix of its own, so a signature made for a file URL can never pass as an upload token.
function sign(grant: FileUrlGrant, secret: string): string {
  const text = ['file-url', grant.storage, grant.id, grant.expires, grant.filename ?? ''].join(
    '\n',
  );
  return createHmac('sha256', secret).update(text).digest('base64url');
}

export function signFileUrl(grant: FileUrlGrant, secret: string): string {
  return sign(grant, secret);
}

/**
 * Throws InvalidFileUrlError unless `signature` is the one made for `grant` and not expired.
 * Returns the whole seconds the URL has left: no cache may keep the file longer.
 */
export function verifyFileUrl(
  grant: FileUrlGrant,
  signature: unknown,
  secret: string,
  now = Date.now(),
): number {
  if (typeof signature !== 'string' || !Number.isSafeInteger(grant.expires)) {
    throw new InvalidFileUrlError('This file needs a signed URL; the signature is missing');
  }
  if (!sameSignature(signature, sign(grant, secret))) {
    throw new InvalidFileUrlError('The URL signature does not match this file');
  }
  if (grant.expires <= now) throw new InvalidFileUrlError('The signed URL has expired');
  return Math.floor((grant.expires - now) / 1000);
}
