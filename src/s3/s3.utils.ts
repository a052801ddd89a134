import type { S3Client } from '@aws-sdk/client-s3';
import { assertSafeFileId } from '../core/index.js';

/** Bucket and key of one object, as the SDK commands take them. */
export interface ObjectLocation {
  Bucket: string;
  Key: string;
}

/** The S3 error code (`NoSuchKey`, `InvalidRange`...) of an SDK error, if it is one. */
export function s3ErrorName(error: unknown): string | undefined {
  return error instanceof Error && '$metadata' in error ? error.name : undefined;
}

export function httpStatusOf(error: unknown): number | undefined {
  if (!(error instanceof Error) || !('$metadata' in error)) return undefined;
  const metadata = error.$metadata as { httpStatusCode?: unknown } | undefined;
  return typeof metadata?.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined;
}

/**
 * A missing key: `NoSuchKey` from GET and copies, `NotFound` from HEAD (which has no body to
 * carry a code). A missing bucket (`NoSuchBucket`) is deliberately not "missing": it is a
 * configuration error and must surface.
 */
export function isMissingKey(error: unknown): boolean {
  const name = s3ErrorName(error);
  return name === 'NoSuchKey' || name === 'NotFound';
}

export function isSafeId(id: string): boolean {
  try {
    assertSafeFileId(id);
    return true;
  } catch {
    return false;
  }
}

/**
 * Who a client talks to and as whom: endpoint, region and access key. Two storages whose clients
 * agree can copy between each other server-side, since the destination's credentials are the
 * ones that read the source.
 */
export async function clientIdentity(client: S3Client): Promise<string> {
  const { config } = client;
  const [endpoint, region, credentials] = await Promise.all([
    config.endpoint?.(),
    config.region(),
    config.credentials(),
  ]);
  const where = endpoint
    ? `${endpoint.protocol}//${endpoint.hostname}:${endpoint.port ?? ''}${endpoint.path}`
    : 'aws';
  return JSON.stringify([where, region, credentials.accessKeyId]);
}

/**
 * Runs `task` on every item, at most `limit` at a time, and returns the results in order. After
 * a failure no new item starts, and the first error is thrown only once the running tasks have
 * settled, so the caller can clean up (abort a multipart upload) without racing them.
 */
export async function mapWithLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failure) {
      const index = next++;
      try {
        results[index] = await task(items[index]);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
  return results;
}
