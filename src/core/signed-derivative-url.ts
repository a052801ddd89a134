import { createHmac } from 'node:crypto';
import { InvalidFileUrlError } from './errors/index.js';
import { sameSignature } from './signed-text.js';

/**
 * What a signed on-demand derivative URL grants: the derivative `name`, as declared, of the
 * original `storage`/`file` while the record's attachment holds it, until `expires` if set.
 */
export interface DerivativeUrlGrant {
  /** The entity's name, as TypeORM knows it. */
  entity: string;
  attachment: string;
  name: string;
  /** The record's id map, as JSON. */
  record: string;
  storage: string;
  /** The original's id. */
  file: string;
  /** Milliseconds since the epoch; undefined for a URL that does not expire. */
  expires?: number;
}

// A purpose of its own, so this signature never passes as a file URL's or a token's. The fields
// go in a JSON array: no value can shift a boundary between two others.
function sign(grant: DerivativeUrlGrant, secret: string): string {
  const { entity, attachment, name, record, storage, file, expires } = grant;
  const text = JSON.stringify([
    'derivative-url',
    entity,
    attachment,
    name,
    record,
    storage,
    file,
    expires ?? null,
  ]);
  return createHmac('sha256', secret).update(text).digest('base64url');
}

export function signDerivativeUrl(grant: DerivativeUrlGrant, secret: string): string {
  return sign(grant, secret);
}

/**
 * Throws InvalidFileUrlError unless `signature` is the one made for `grant` and it has not
 * expired. Returns the whole seconds left, or null for a URL that never expires.
 */
export function verifyDerivativeUrl(
  grant: DerivativeUrlGrant,
  signature: unknown,
  secret: string,
  now = Date.now(),
): number | null {
  if (typeof signature !== 'string' || signature === '') {
    throw new InvalidFileUrlError('This derivative URL is not signed');
  }
  if (grant.expires !== undefined && !Number.isSafeInteger(grant.expires)) {
    throw new InvalidFileUrlError('The derivative URL has an unreadable expiry');
  }
  if (!sameSignature(signature, sign(grant, secret))) {
    throw new InvalidFileUrlError('The URL signature does not match this derivative');
  }
  if (grant.expires === undefined) return null;
  if (grant.expires <= now) throw new InvalidFileUrlError('The signed URL has expired');
  return Math.floor((grant.expires - now) / 1000);
}
