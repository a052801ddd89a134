import { createHmac } from 'node:crypto';
import { ExpiredTokenError, InvalidTokenError } from './errors/index.js';
import { decodeSignedBody, sameSignature } from './signed-text.js';

/** What a signed upload token says: which cached file, until when, and for whom. */
export interface UploadTokenPayload {
  /** Name of the storage holding the file; attaching accepts only the cache storage. */
  storage: string;
  /** Id of the file in that storage. */
  id: string;
  /** Original filename as the client sent it, already sanitized. */
  filename?: string;
  /** Expiry, in milliseconds since the epoch. */
  expiresAt: number;
  /** The uploader the token is bound to, when the app identifies uploaders. */
  owner?: string;
  /** Hex SHA-256, when the bytes passed through this server (a direct upload has none). */
  sha256?: string;
}

const VERSION = 'v1';

function signature(secret: string, body: string): Buffer {
  return createHmac('sha256', secret).update(`${VERSION}.${body}`).digest();
}

/** Signs a payload: `v1.<base64url JSON>.<base64url HMAC-SHA256>`. */
export function signUploadToken(payload: UploadTokenPayload, secret: string): string {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${VERSION}.${body}.${signature(secret, body).toString('base64url')}`;
}

/**
 * Verifies signature and expiry and returns the payload. Any change to any byte of the token
 * fails the HMAC check, so the payload needs no further trust checks beyond its shape.
 */
export function verifyUploadToken(
  token: unknown,
  secret: string,
  now = Date.now(),
): UploadTokenPayload {
  if (typeof token !== 'string' || token.length > 8192) {
    throw new InvalidTokenError('not a token string');
  }
  const [version, body, mac, ...rest] = token.split('.');
  if (version !== VERSION || !body || !mac || rest.length > 0) {
    throw new InvalidTokenError('malformed token');
  }
  if (!sameSignature(mac, signature(secret, body).toString('base64url'))) {
    throw new InvalidTokenError('signature does not match (forged or tampered)');
  }
  const payload = parsePayload(body);
  if (payload.expiresAt <= now) throw new ExpiredTokenError(new Date(payload.expiresAt));
  return payload;
}

function parsePayload(body: string): UploadTokenPayload {
  const p = decodeSignedBody(body, 'payload is not JSON') as Partial<UploadTokenPayload> | null;
  if (
    !p ||
    typeof p.storage !== 'string' ||
    typeof p.id !== 'string' ||
    typeof p.expiresAt !== 'number' ||
    (p.owner !== undefined && typeof p.owner !== 'string') ||
    (p.filename !== undefined && typeof p.filename !== 'string') ||
    (p.sha256 !== undefined && typeof p.sha256 !== 'string')
  ) {
    throw new InvalidTokenError('payload has the wrong shape');
  }
  return p as UploadTokenPayload;
}
