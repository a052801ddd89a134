import type { AttachmentsConfig } from '../config/index.js';
import {
  looksLikeSignedFileId,
  ownerDigest,
  signFileId,
  TokenOwnerMismatchError,
  verifySignedFileId,
  verifyCacheUploadToken,
  type MeasuredFacts,
  type SignedIdClaim,
} from '../core/index.js';
import { acceptsDirectUploads } from '../storage/index.js';

/** S3's limit on an object key, in bytes: a signed id must fit in it after the prefix. */
const MAX_KEY_BYTES = 1024;

/** What a verified token or signed key says about the cached file it names. */
export interface UploadClaim {
  id: string;
  filename?: string;
  sha256?: string;
  /** What this server measured as the bytes streamed in; only its own uploads' tokens say. */
  measured?: MeasuredFacts;
}

/** What the cache storage puts before an id in the object key a direct upload reports. */
export function cacheKeyPrefix(config: AttachmentsConfig): string {
  const cache = config.storage(config.cacheStorage);
  return (acceptsDirectUploads(cache) && cache.prefix) || '';
}

/**
 * A signed id for a new file of the cache storage: the claim (filename, rules, uploader, expiry
 * after `tokenTtl`) travels in the id, so the object key that S3 and Uppy report is enough for
 * the app to attach the file.
 */
export function signCacheId(
  config: AttachmentsConfig,
  basename: string,
  claim: Omit<SignedIdClaim, 'expiresAt' | 'owner'>,
  owner: string | undefined,
): string {
  return signFileId(
    basename,
    {
      ...claim,
      expiresAt: Date.now() + config.tokenTtl,
      ...(owner === undefined ? {} : { owner: ownerDigest(owner, config.secret) }),
    },
    {
      secret: config.secret,
      storage: config.cacheStorage,
      maxLength: MAX_KEY_BYTES - Buffer.byteLength(cacheKeyPrefix(config)),
    },
  );
}

/** The id of the cache storage's file named by `key`: its object key or the id itself. */
export function cacheIdOfKey(config: AttachmentsConfig, key: string): string {
  const prefix = cacheKeyPrefix(config);
  return prefix && key.startsWith(prefix) ? key.slice(prefix.length) : key;
}

/** Throws unless `owner` is the uploader the claim is bound to (a claim bound to none passes). */
export function checkClaimOwner(
  config: AttachmentsConfig,
  claim: Pick<SignedIdClaim, 'owner'>,
  owner: string | undefined,
): void {
  if (claim.owner === undefined) return;
  if (owner === undefined || claim.owner !== ownerDigest(owner, config.secret)) {
    throw new TokenOwnerMismatchError();
  }
}

/**
 * Verifies what a form sent to name a cached file: an upload token, or a signed key (with or
 * without the cache storage's prefix) that a direct upload reported. Checks signature, expiry,
 * storage and uploader; single use and the stored object are the caller's to check.
 */
export function verifyUploadClaim(
  config: AttachmentsConfig,
  source: string,
  owner: string | undefined,
): UploadClaim {
  const id = cacheIdOfKey(config, source);
  if (looksLikeSignedFileId(id)) {
    const claim = verifySignedFileId(id, config.secret, config.cacheStorage);
    checkClaimOwner(config, claim, owner);
    return { id, ...(claim.filename === undefined ? {} : { filename: claim.filename }) };
  }
  const payload = verifyCacheUploadToken(source, config.secret, config.cacheStorage);
  if (payload.owner !== undefined && payload.owner !== owner) throw new TokenOwnerMismatchError();
  return payload;
}
