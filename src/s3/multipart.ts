import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type HeadObjectCommandOutput,
  ListMultipartUploadsCommand,
  type S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { pipeline, type Readable } from 'node:stream';
import {
  byteLimit,
  encodeIdPath,
  MAX_PARTS,
  refuseOversizedBuffer,
  type UploadOptions,
} from '../storage/index.js';
import { mapWithLimit, s3ErrorName, type ObjectLocation } from './s3.utils.js';

export interface MultipartCopyOptions {
  source: ObjectLocation;
  target: ObjectLocation;
  /** HEAD of the source: its size, ETag and the metadata to carry over. */
  head: HeadObjectCommandOutput;
  partSize: number;
}

const COPY_PARALLELISM = 4;
/** Parts an upload buffers and sends at once: memory stays near (queue + 1) × part size. */
const UPLOAD_QUEUE_SIZE = 2;

/**
 * Uploads `body` with lib-storage: one PutObject when it fits in a part, else a multipart upload
 * that only becomes an object once complete. `maxSize` is enforced on the stream, before S3
 * receives the excess; on any failure the multipart upload is aborted, so nothing is left.
 */
export async function uploadObject(
  client: S3Client,
  target: ObjectLocation,
  body: Readable | Buffer,
  options: UploadOptions & { partSize: number },
): Promise<void> {
  const { maxSize, contentType } = options;
  refuseOversizedBuffer(body, maxSize);
  const knownSize = Buffer.isBuffer(body) ? body.length : (maxSize ?? 0);
  const limited =
    Buffer.isBuffer(body) || maxSize === undefined
      ? body
      : // Errors travel down the pipeline to the upload, which reports them.
        pipeline(body, byteLimit(maxSize), () => {});
  const upload = new Upload({
    client,
    params: { ...target, Body: limited, ContentType: contentType },
    partSize: Math.max(options.partSize, Math.ceil(knownSize / MAX_PARTS)),
    queueSize: UPLOAD_QUEUE_SIZE,
    // lib-storage's own abort replaces the upload's error with the abort's when that fails.
    leavePartsOnError: true,
  });
  try {
    await upload.done();
  } catch (error) {
    if (!Buffer.isBuffer(body)) body.destroy();
    if (upload.uploadId) await abortQuietly(client, { ...target, UploadId: upload.uploadId });
    throw error;
  }
}

export function copySourceHeader({ Bucket, Key }: ObjectLocation): string {
  return `${encodeURIComponent(Bucket)}/${encodeIdPath(Key)}`;
}

/**
 * Copies an object server-side in parts (UploadPartCopy), for objects larger than CopyObject
 * accepts. Unlike CopyObject this does not carry metadata over by itself, so the usual headers
 * are passed on. On any failure the multipart upload is aborted, so nothing is left behind.
 */
export async function multipartCopy(
  client: S3Client,
  options: MultipartCopyOptions,
): Promise<void> {
  const { source, target, head } = options;
  const size = head.ContentLength ?? 0;
  const partSize = Math.max(options.partSize, Math.ceil(size / MAX_PARTS));
  const { UploadId } = await client.send(
    new CreateMultipartUploadCommand({
      ...target,
      ContentType: head.ContentType,
      ContentEncoding: head.ContentEncoding,
      ContentDisposition: head.ContentDisposition,
      ContentLanguage: head.ContentLanguage,
      CacheControl: head.CacheControl,
      Metadata: head.Metadata,
    }),
  );
  if (!UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
  try {
    const ranges = Array.from({ length: Math.ceil(size / partSize) }, (_, index) => ({
      PartNumber: index + 1,
      start: index * partSize,
      end: Math.min((index + 1) * partSize, size) - 1,
    }));
    const parts = await mapWithLimit(
      ranges,
      COPY_PARALLELISM,
      async ({ PartNumber, start, end }) => {
        const { CopyPartResult } = await client.send(
          new UploadPartCopyCommand({
            ...target,
            UploadId,
            PartNumber,
            CopySource: copySourceHeader(source),
            CopySourceRange: `bytes=${start}-${end}`,
            // Should the source be replaced mid-copy, fail instead of stitching two versions.
            CopySourceIfMatch: head.ETag,
          }),
        );
        if (!CopyPartResult?.ETag)
          throw new Error(`UploadPartCopy of part ${PartNumber} gave no ETag`);
        return { PartNumber, ETag: CopyPartResult.ETag };
      },
    );
    await client.send(
      new CompleteMultipartUploadCommand({
        ...target,
        UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
  } catch (error) {
    await abortQuietly(client, { ...target, UploadId });
    throw error;
  }
}

/**
 * Aborts a multipart upload after a failure. The failure is the error worth reporting: should
 * the abort fail too, the parts stay until removeIncompleteUploads() finds them.
 */
export async function abortQuietly(
  client: S3Client,
  upload: ObjectLocation & { UploadId: string },
): Promise<void> {
  await client.send(new AbortMultipartUploadCommand(upload)).catch(() => {});
}

/** Aborts the multipart uploads under `Prefix` started before `olderThan`; returns how many. */
export async function abortUploadsStartedBefore(
  client: S3Client,
  { Bucket, Prefix }: { Bucket: string; Prefix: string },
  olderThan: Date,
): Promise<number> {
  let aborted = 0;
  let KeyMarker: string | undefined;
  let UploadIdMarker: string | undefined;
  do {
    const page = await client.send(
      new ListMultipartUploadsCommand({ Bucket, Prefix, KeyMarker, UploadIdMarker }),
    );
    for (const { Key, UploadId, Initiated } of page.Uploads ?? []) {
      if (!Key || !UploadId || !Initiated || Initiated >= olderThan) continue;
      try {
        await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
        aborted++;
      } catch (error) {
        // Completed or aborted since the listing: nothing left to remove.
        if (s3ErrorName(error) !== 'NoSuchUpload') throw error;
      }
    }
    [KeyMarker, UploadIdMarker] = page.IsTruncated
      ? [page.NextKeyMarker, page.NextUploadIdMarker]
      : [undefined, undefined];
  } while (KeyMarker !== undefined || UploadIdMarker !== undefined);
  return aborted;
}
