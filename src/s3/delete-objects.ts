import { DeleteObjectsCommand, type S3Client } from '@aws-sdk/client-s3';

/** DeleteObjects takes at most this many keys per request. */
const DELETE_BATCH = 1000;

/**
 * Deletes `keys` of `Bucket` in as few DeleteObjects requests as S3 allows. A missing key is no
 * failure; the keys S3 did refuse are reported together once every batch has been sent.
 */
export async function deleteObjects(
  client: S3Client,
  Bucket: string,
  keys: readonly string[],
): Promise<void> {
  const failures: string[] = [];
  for (let offset = 0; offset < keys.length; offset += DELETE_BATCH) {
    const batch = keys.slice(offset, offset + DELETE_BATCH);
    const { Errors = [] } = await client.send(
      new DeleteObjectsCommand({
        Bucket,
        Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
      }),
    );
    for (const { Key, Code, Message } of Errors) {
      failures.push(`${Key}: ${Code} ${Message ?? ''}`);
    }
  }
  if (failures.length > 0) {
    const shown = failures.slice(0, 5).join('; ');
    const more = failures.length > 5 ? ` and ${failures.length - 5} more` : '';
    throw new Error(`S3Storage: ${failures.length} deletions failed: ${shown}${more}`);
  }
}
