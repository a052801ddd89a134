import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { assertSafeFileId } from '../core/index.js';

export type ChecksumSetting = 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';

export interface S3StorageOptions {
  /**
   * A client to use as is. Give either this or `clientConfig`. Sharing one client between the
   * storages of one bucket also tells `copy` they can copy server-side without further checks.
   */
  client?: S3Client;
  /** Configuration for a client the storage builds itself. Give either this or `client`. */
  clientConfig?: S3ClientConfig;
  /**
   * When the SDK adds checksums to requests. Only used when the storage builds the client (and
   * `clientConfig` does not set it). Default: `'WHEN_REQUIRED'` when `clientConfig.endpoint` is
   * set, since MinIO, R2, s3rver and other S3-compatible servers store the aws-chunked framing
   * of streamed uploads as part of the object otherwise; the SDK's `'WHEN_SUPPORTED'` for AWS.
   */
  requestChecksumCalculation?: ChecksumSetting;
  /** When the SDK validates response checksums; same rules and default as above. */
  responseChecksumValidation?: ChecksumSetting;
  bucket: string;
  /**
   * Key prefix the storage lives under, such as `cache/` or `store/`, so several storages can
   * share one bucket. Ids are relative to it. A missing trailing slash is added. Default: none.
   */
  prefix?: string;
  /**
   * Base URL under which the objects of this storage (its prefix, not the bucket root) are
   * publicly served, e.g. `https://cdn.example.com/store` for prefix `store/`. `url()` then
   * appends the id. Without it, `url()` returns presigned GET URLs.
   */
  publicUrl?: string;
  /**
   * Part size of multipart uploads, in bytes; at least 5 MiB. Raised automatically when a file
   * of known size (a Buffer, or `maxSize`) would need more than 10,000 parts. Memory per upload
   * is bounded by about three parts. Default 8 MiB (streams of unknown length up to ~78 GiB).
   */
  partSize?: number;
  /**
   * Objects larger than this are copied server-side with UploadPartCopy instead of a single
   * CopyObject. Default and maximum 5 GiB, the largest object CopyObject accepts.
   */
  multipartCopyThreshold?: number;
  /**
   * Part size of multipart copies. Default 512 MiB, raised when an object would need more than
   * 10,000 parts. S3 requires at least 5 MiB for all parts but the last; only test servers
   * accept less.
   */
  copyPartSize?: number;
}

export interface ResolvedS3StorageOptions {
  client: S3Client;
  bucket: string;
  prefix: string;
  publicUrl?: string;
  partSize: number;
  multipartCopyThreshold: number;
  copyPartSize: number;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
export const MIN_UPLOAD_PART_SIZE = 5 * MiB;
const MAX_PART_SIZE = 5 * GiB;
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;
const CHECKSUM_SETTINGS: readonly string[] = ['WHEN_SUPPORTED', 'WHEN_REQUIRED'];

export function resolveS3StorageOptions(options: S3StorageOptions): ResolvedS3StorageOptions {
  if (typeof options !== 'object' || options === null) fail('options are required');
  const { bucket, prefix = '', publicUrl } = options;
  if (typeof bucket !== 'string' || bucket.length === 0) fail('`bucket` must be a bucket name');
  const resolved: ResolvedS3StorageOptions = {
    client: buildClient(options),
    bucket,
    prefix: normalizePrefix(prefix),
    partSize: options.partSize ?? 8 * MiB,
    multipartCopyThreshold: options.multipartCopyThreshold ?? 5 * GiB,
    copyPartSize: options.copyPartSize ?? 512 * MiB,
  };
  checkSize(resolved.partSize, 'partSize', MIN_UPLOAD_PART_SIZE, MAX_PART_SIZE);
  checkSize(resolved.multipartCopyThreshold, 'multipartCopyThreshold', 1, MAX_PART_SIZE);
  checkSize(resolved.copyPartSize, 'copyPartSize', 1, MAX_PART_SIZE);
  if (publicUrl !== undefined) resolved.publicUrl = normalizePublicUrl(publicUrl);
  return resolved;
}

/** Throws unless `seconds` is a validity a SigV4 presigned URL can have. */
export function checkExpiresIn(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_PRESIGN_SECONDS) {
    throw new RangeError(
      `S3Storage: \`expiresIn\` must be a whole number of seconds from 1 to ${MAX_PRESIGN_SECONDS} ` +
        `(7 days, the SigV4 limit), got ${seconds}`,
    );
  }
}

function buildClient(options: S3StorageOptions): S3Client {
  const { client, clientConfig } = options;
  const checksumOptions = [options.requestChecksumCalculation, options.responseChecksumValidation];
  for (const setting of checksumOptions) {
    if (setting !== undefined && !CHECKSUM_SETTINGS.includes(setting)) {
      fail(`checksum settings must be 'WHEN_SUPPORTED' or 'WHEN_REQUIRED', got ${String(setting)}`);
    }
  }
  if (client !== undefined) {
    if (clientConfig !== undefined) fail('give either `client` or `clientConfig`, not both');
    // Duck-typed: a client from another copy of @aws-sdk/client-s3 works just as well.
    if (typeof client?.send !== 'function') fail('`client` must be an S3Client');
    // Silently ignoring them would leave a MinIO/R2 user with corrupt uploads.
    if (checksumOptions.some((setting) => setting !== undefined)) {
      fail('checksum settings only apply to a client the storage builds: set them on `client`');
    }
    return client;
  }
  if (clientConfig === undefined) fail('give `client` or `clientConfig`');
  const fallback: ChecksumSetting = clientConfig.endpoint ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED';
  return new S3Client({
    ...clientConfig,
    requestChecksumCalculation:
      clientConfig.requestChecksumCalculation ?? options.requestChecksumCalculation ?? fallback,
    responseChecksumValidation:
      clientConfig.responseChecksumValidation ?? options.responseChecksumValidation ?? fallback,
  });
}

function normalizePrefix(prefix: string): string {
  if (typeof prefix !== 'string') fail('`prefix` must be a string');
  if (prefix === '') return '';
  const trimmed = prefix.replace(/\/$/, '');
  try {
    assertSafeFileId(trimmed);
  } catch (error) {
    fail(`\`prefix\` ${JSON.stringify(prefix)} is not a relative key prefix: ${String(error)}`);
  }
  return `${trimmed}/`;
}

function normalizePublicUrl(publicUrl: string): string {
  let url: URL;
  try {
    url = new URL(publicUrl);
  } catch {
    fail(`\`publicUrl\` must be an absolute URL, got ${JSON.stringify(publicUrl)}`);
  }
  if (url.search || url.hash) fail('`publicUrl` must not have a query or a fragment');
  return publicUrl.replace(/\/+$/, '');
}

function checkSize(value: number, name: string, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(
      `S3Storage: \`${name}\` must be a whole number of bytes from ${min} to ${max}, got ${value}`,
    );
  }
}

function fail(message: string): never {
  throw new TypeError(`S3Storage: ${message}`);
}
