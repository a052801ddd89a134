import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { HttpPlatform } from '../support/platforms.js';
import type { TestS3Server } from '../support/s3rver.js';
import { startSampleApp, type SampleApp } from './sample-app.js';

/**
 * The environment that puts the sample in S3 mode against `s3`: its endpoint, s3rver's fixed
 * credentials, and path-style addressing left to the sample's default for an endpoint.
 */
export function s3Environment(s3: TestS3Server): Record<string, string> {
  return {
    S3_BUCKET: s3.bucket,
    S3_ENDPOINT: s3.endpoint,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    // On Node 20 the AWS SDK warns once that its 2027 releases need Node 22. The tests check
    // that the sample prints nothing but its "listening" line, so they silence that one notice.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** Runs the sample (`npm run sample`) with its files in `s3`'s bucket. */
export function startS3SampleApp(
  uploads: string,
  s3: TestS3Server,
  platform?: HttpPlatform,
): Promise<SampleApp> {
  return startSampleApp({ uploads, env: s3Environment(s3), platform });
}

/** Every key in the bucket under `prefix`, sorted. */
export async function keysUnder(client: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let ContinuationToken: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken }),
    );
    for (const { Key } of page.Contents ?? []) if (Key) keys.push(Key);
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
  return keys.sort();
}
