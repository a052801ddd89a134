import { join } from 'node:path';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { FileSystemStorage, type Storage } from '../../src/index.js';

/** Where the sample keeps files when `S3_BUCKET` is set. */
export interface SampleS3Settings {
  bucket: string;
  /** An S3-compatible server (MinIO, R2, s3rver...); AWS when absent. */
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
}

/**
 * The client settings. Credentials come from the SDK's usual chain: AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY, else a profile or an instance role.
 */
function clientConfig(s3: SampleS3Settings): S3ClientConfig {
  return {
    region: s3.region,
    forcePathStyle: s3.forcePathStyle,
    ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
  };
}

/**
 * `cache` and `store` folders under `uploads`, or the `cache/` and `store/` prefixes of one
 * bucket. The store shares the cache's client, so promotion is a server-side CopyObject. The S3
 * storage is imported only in S3 mode: an app on folders never loads the AWS SDK.
 */
export async function sampleStorages(
  uploads: string,
  s3: SampleS3Settings | undefined,
): Promise<{ cache: Storage; store: Storage }> {
  if (!s3) {
    return {
      cache: new FileSystemStorage({ directory: join(uploads, 'cache') }),
      store: new FileSystemStorage({ directory: join(uploads, 'store') }),
    };
  }
  const { S3Storage } = await import('../../src/s3/index.js');
  // With an endpoint, S3Storage defaults both checksum settings to 'WHEN_REQUIRED', which
  // MinIO, R2 and s3rver need (see S3StorageOptions); AWS keeps the SDK's defaults.
  const cache = new S3Storage({
    bucket: s3.bucket,
    prefix: 'cache/',
    clientConfig: clientConfig(s3),
  });
  const store = new S3Storage({ client: cache.client, bucket: s3.bucket, prefix: 'store/' });
  return { cache, store };
}

/** Why the bucket cannot be used (one line), or undefined when a HeadBucket succeeds. */
export async function bucketProblem(s3: SampleS3Settings): Promise<string | undefined> {
  const { HeadBucketCommand, S3Client } = await import('@aws-sdk/client-s3');
  const client = new S3Client({ ...clientConfig(s3), maxAttempts: 1 });
  try {
    await client.send(new HeadBucketCommand({ Bucket: s3.bucket }), {
      abortSignal: AbortSignal.timeout(15_000),
    });
    return undefined;
  } catch (error) {
    const { name, message, $metadata } = error as Error & {
      $metadata?: { httpStatusCode?: number };
    };
    const status = $metadata?.httpStatusCode;
    // HeadBucket answers have no body: a 404 or 403 comes as a bare "NotFound" or "Forbidden".
    const reason = status ? `HTTP ${status} ${name}` : message || name;
    return (
      `The S3 bucket "${s3.bucket}" is not usable at ${s3.endpoint ?? `AWS (${s3.region})`}: ` +
      `${reason}. Check S3_BUCKET, S3_ENDPOINT and the AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY credentials.`
    );
  } finally {
    client.destroy();
  }
}

/**
 * The origins a browser reaches the bucket at, for the page's Content-Security-Policy: the
 * uploads go there (`connect-src`) and the images come from there (`img-src`, presigned URLs).
 */
export function bucketOrigins(s3: SampleS3Settings): string[] {
  if (s3.endpoint) {
    const endpoint = new URL(s3.endpoint);
    if (s3.forcePathStyle) return [endpoint.origin];
    return [`${endpoint.protocol}//${s3.bucket}.${endpoint.host}`];
  }
  // Virtual-hosted AWS addresses, as the SDK and S3Storage's presigned POST build them; the SDK
  // falls back to path-style addresses for bucket names with dots.
  const origins = [`https://${s3.bucket}.s3.${s3.region}.amazonaws.com`];
  if (s3.bucket.includes('.')) origins.push(`https://s3.${s3.region}.amazonaws.com`);
  return origins;
}

/** The `(files in ...)` part of the "listening" line. */
export function describeStorage(s3: SampleS3Settings | undefined): string {
  if (!s3) return '';
  return ` (files in s3://${s3.bucket}${s3.endpoint ? ` at ${s3.endpoint}` : ''})`;
}
