import { createHmac } from 'node:crypto';
import { ExpiredTokenError, InvalidTokenError } from './errors/index.js';
import { decodeSignedBody, sameSignature } from './signed-text.js';
import type { FileMetadata } from './uploaded-file.js';

/**
 * What this server measured of a file while its bytes streamed through it: the metadata besides
 * the filename and the checksum, which the token carries in fields of their own, and the
 * placeholder, which only promotion makes.
 */
export type MeasuredFacts = Omit<FileMetadata, 'filename' | 'sha256' | 'placeholder'>;

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
  /**
   * Size, type and dimensions, when this server measured them as the bytes passed through it:
   * attaching takes them as they are instead of reading the file again. Tokens for files that
   * reached the cache another way, and tokens issued before this field existed, have none:
   * those files are measured at attach.
   */
  measured?: MeasuredFacts;
}

const isCount = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0;
const isText = (value: unknown) => typeof value === 'string';

/**
 * Each measured fact: its short name in the token's JSON, the values it may hold, and whether
 * every measurement has it. A fact added to FileMetadata does not compile here until the token
 * carries it too, so a token never drops what a measurement found.
 */
const FACTS = {
  size: { short: 's', valid: isCount, always: true },
  mimeType: { short: 't', valid: isText, always: true },
  width: { short: 'w', valid: isCount, always: false },
  height: { short: 'h', valid: isCount, always: false },
} as const satisfies Record<
  keyof MeasuredFacts,
  { short: string; valid: (value: unknown) => boolean; always: boolean }
>;

type Fact = keyof typeof FACTS;
const FACT_NAMES = Object.keys(FACTS) as Fact[];

/** `measured` as the token's JSON spells it. */
type CompactFacts = { [K in keyof MeasuredFacts as (typeof FACTS)[K]['short']]: MeasuredFacts[K] };

type WirePayload = Omit<UploadTokenPayload, 'measured'> & { m?: CompactFacts };

/** The facts of a measurement that a token carries: all of its metadata but name and checksum. */
export function measuredFactsOf(metadata: FileMetadata): MeasuredFacts {
  const facts: Partial<Record<Fact, unknown>> = {};
  for (const name of FACT_NAMES) if (metadata[name] !== undefined) facts[name] = metadata[name];
  return facts as MeasuredFacts;
}

const VERSION = 'v1';

function signature(secret: string, body: string): Buffer {
  return createHmac('sha256', secret).update(`${VERSION}.${body}`).digest();
}

/** Signs a payload: `v1.<base64url JSON>.<base64url HMAC-SHA256>`. */
export function signUploadToken(payload: UploadTokenPayload, secret: string): string {
  const { measured, ...rest } = payload;
  const wire: WirePayload = measured ? { ...rest, m: compact(measured) } : rest;
  const body = Buffer.from(JSON.stringify(wire)).toString('base64url');
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

/**
 * verifyUploadToken, and refuses a token for another storage than the cache: only files in the
 * cache storage can be attached.
 */
export function verifyCacheUploadToken(
  token: unknown,
  secret: string,
  cacheStorage: string,
  now = Date.now(),
): UploadTokenPayload {
  const payload = verifyUploadToken(token, secret, now);
  if (payload.storage !== cacheStorage) {
    throw new InvalidTokenError(
      `it names storage "${payload.storage}"; only files in the cache storage can be attached`,
    );
  }
  return payload;
}

function compact(facts: MeasuredFacts): CompactFacts {
  const wire: Partial<Record<string, unknown>> = {};
  for (const name of FACT_NAMES) {
    if (facts[name] !== undefined) wire[FACTS[name].short] = facts[name];
  }
  return wire as CompactFacts;
}

/**
 * The facts of `m`, or null when one of them has the wrong shape. Names it does not know are
 * skipped, so a token a newer version issued (during a rolling deploy) still attaches here.
 */
function expand(wire: unknown): MeasuredFacts | null {
  if (!wire || typeof wire !== 'object' || Array.isArray(wire)) return null;
  const fields = wire as Partial<Record<string, unknown>>;
  const facts: Partial<Record<Fact, unknown>> = {};
  for (const name of FACT_NAMES) {
    const { short, valid, always } = FACTS[name];
    const value = fields[short];
    if (value === undefined ? always : !valid(value)) return null;
    if (value !== undefined) facts[name] = value;
  }
  return facts as MeasuredFacts;
}

function parsePayload(body: string): UploadTokenPayload {
  const p = decodeSignedBody(body, 'payload is not JSON') as Partial<WirePayload> | null;
  const optionalText = (field: unknown) => field === undefined || isText(field);
  const measured = p?.m === undefined ? undefined : expand(p.m);
  if (
    !p ||
    typeof p.storage !== 'string' ||
    typeof p.id !== 'string' ||
    typeof p.expiresAt !== 'number' ||
    !optionalText(p.owner) ||
    !optionalText(p.filename) ||
    !optionalText(p.sha256) ||
    measured === null
  ) {
    throw new InvalidTokenError('payload has the wrong shape');
  }
  // Built field by field: only what the shape check covered reaches the caller.
  const payload: UploadTokenPayload = { storage: p.storage, id: p.id, expiresAt: p.expiresAt };
  if (p.filename !== undefined) payload.filename = p.filename;
  if (p.owner !== undefined) payload.owner = p.owner;
  if (p.sha256 !== undefined) payload.sha256 = p.sha256;
  if (measured) payload.measured = measured;
  return payload;
}
