import { createHmac } from 'node:crypto';
import { ExpiredTokenError, InvalidTokenError } from './errors/index.js';
import { isNewFileId } from './file-id.js';
import { safeExtension } from './filename.js';
import { decodeSignedBody, sameSignature } from './signed-text.js';

/**
 * What a signed cache id says besides naming its file. Clients that keep only an upload's
 * object key (Uppy's AwsS3 plugin) can then hand the app that key instead of a token: the key
 * is the claim, signed like a token, expiring and bound to the uploader.
 */
export interface SignedIdClaim {
  /** Expiry, in milliseconds since the epoch. */
  expiresAt: number;
  /** Original filename as the client gave it when the upload began, already sanitized. */
  filename?: string;
  /** Keyed digest of the uploader (`ownerDigest()`), never the owner: ids show in URLs. */
  owner?: string;
  /** The attachment whose rules the upload is held to, as the client named it at the start. */
  entity?: string;
  attachment?: string;
}

const VERSION = 'u1';
const B64URL = '[A-Za-z0-9_-]';
const MAC_CHARS = 43; // an HMAC-SHA256 in base64url, unpadded
const SHAPE = new RegExp(`^${VERSION}\\.(${B64URL}+)\\.(${B64URL}{${MAC_CHARS}})/([^/]+)$`);

interface Compact {
  x: number;
  f?: string;
  o?: string;
  e?: string;
  a?: string;
}

function mac(secret: string, storage: string, body: string, basename: string): string {
  return createHmac('sha256', secret)
    .update(`${VERSION}|${storage}|${body}|${basename}`)
    .digest('base64url');
}

/**
 * A keyed digest of `owner`: equal owners give equal digests, and nobody without the secret can
 * tell whose it is or forge one.
 */
export function ownerDigest(owner: string, secret: string): string {
  return createHmac('sha256', secret).update(`${VERSION}|owner|${owner}`).digest('base64url');
}

/**
 * The id `<claim>/<basename>` of a new cached file, where `<claim>` is `u1.<base64url JSON>.<MAC>`
 * over the claim, the storage's name and the basename. Promotion names the stored file after
 * the basename alone, so the claim stays in the cache. The filename is shortened (keeping its
 * extension) until the id fits in `maxLength` characters; throws when even no filename fits.
 */
export function signFileId(
  basename: string,
  claim: SignedIdClaim,
  options: { secret: string; storage: string; maxLength: number },
): string {
  if (!isNewFileId(basename)) throw new TypeError(`"${basename}" is not a new file id`);
  const compact: Compact = { x: claim.expiresAt };
  if (claim.owner !== undefined) compact.o = claim.owner;
  if (claim.entity !== undefined) compact.e = claim.entity;
  if (claim.attachment !== undefined) compact.a = claim.attachment;
  const build = (filename: string | undefined) => {
    const body = Buffer.from(JSON.stringify({ ...compact, f: filename })).toString('base64url');
    return `${VERSION}.${body}.${mac(options.secret, options.storage, body, basename)}/${basename}`;
  };
  const filename = claim.filename ?? '';
  // Kept as the client spelled it; only the stem is shortened, between code points.
  const extension = filename.slice(filename.length - safeExtension(filename).length);
  const stem = [...filename.slice(0, filename.length - extension.length)];
  const withStem = (kept: number) =>
    build(kept > 0 ? stem.slice(0, kept).join('') + extension : undefined);
  let id = build(claim.filename);
  if (id.length > options.maxLength) {
    // The longest stem that fits: the id grows with every character kept.
    let [fits, tooLong] = [0, stem.length];
    while (tooLong - fits > 1) {
      const middle = Math.floor((fits + tooLong) / 2);
      if (withStem(middle).length <= options.maxLength) fits = middle;
      else tooLong = middle;
    }
    id = withStem(fits);
  }
  if (id.length > options.maxLength) {
    throw new RangeError(
      `A signed file id needs ${id.length} characters; only ${options.maxLength} fit in the key`,
    );
  }
  return id;
}

/** Whether `value` has the shape of a signed id; says nothing of its signature. */
export function looksLikeSignedFileId(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 1024 && SHAPE.test(value);
}

/**
 * Checks the signature of a signed id and returns its claim, expired or not (the routes that
 * continue an upload accept it until it completes). `verifySignedFileId` also checks expiry.
 */
export function readSignedFileId(id: unknown, secret: string, storage: string): SignedIdClaim {
  const match = typeof id === 'string' && id.length <= 1024 ? SHAPE.exec(id) : null;
  const [, body = '', given = '', basename = ''] = match ?? [];
  if (!match || !isNewFileId(basename)) throw new InvalidTokenError('malformed signed key');
  if (!sameSignature(given, mac(secret, storage, body, basename))) {
    throw new InvalidTokenError('the key\u2019s signature does not match (forged or tampered)');
  }
  return parseClaim(body);
}

/** `readSignedFileId`, and the claim must not have expired. */
export function verifySignedFileId(
  id: unknown,
  secret: string,
  storage: string,
  now = Date.now(),
): SignedIdClaim {
  const claim = readSignedFileId(id, secret, storage);
  if (claim.expiresAt <= now) throw new ExpiredTokenError(new Date(claim.expiresAt));
  return claim;
}

function parseClaim(body: string): SignedIdClaim {
  const c = decodeSignedBody(body, 'the key\u2019s claim is not JSON') as Partial<Compact> | null;
  const optionalText = (field: unknown) => field === undefined || typeof field === 'string';
  if (
    !c ||
    typeof c.x !== 'number' ||
    !optionalText(c.f) ||
    !optionalText(c.o) ||
    !optionalText(c.e) ||
    !optionalText(c.a)
  ) {
    throw new InvalidTokenError('the key\u2019s claim has the wrong shape');
  }
  const claim: SignedIdClaim = { expiresAt: c.x };
  if (c.f !== undefined) claim.filename = c.f;
  if (c.o !== undefined) claim.owner = c.o;
  if (c.e !== undefined) claim.entity = c.e;
  if (c.a !== undefined) claim.attachment = c.a;
  return claim;
}
