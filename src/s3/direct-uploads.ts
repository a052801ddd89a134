import { createHmac } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { PresignedUpload, PresignUploadOptions, UploadedPart } from '../storage/index.js';
import type { ObjectLocation } from './s3.utils.js';

/**
 * A browser upload request for one object: a presigned PUT, or a POST whose signed policy pins
 * the key and bounds the size (`content-length-range`), which S3 enforces for POST only.
 */
export async function presignObjectUpload(
  client: S3Client,
  target: ObjectLocation,
  options: PresignUploadOptions,
): Promise<PresignedUpload> {
  if (options.method === 'PUT') {
    const command = new PutObjectCommand({ ...target, ContentType: options.contentType });
    const url = await getSignedUrl(client, command, { expiresIn: options.expiresIn });
    const headers: Record<string, string> = options.contentType
      ? { 'content-type': options.contentType }
      : {};
    return { method: 'PUT', url, fields: {}, headers };
  }
  return presignPost(client, target, options);
}

async function presignPost(
  client: S3Client,
  target: ObjectLocation,
  options: PresignUploadOptions,
): Promise<PresignedUpload> {
  const credentials = await client.config.credentials();
  const region = await client.config.region();
  const now = new Date();
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, ''); // 20261123T120000Z
  const day = stamp.slice(0, 8);
  const credential = `${credentials.accessKeyId}/${day}/${region}/s3/aws4_request`;
  const fields: Record<string, string> = {
    key: target.Key,
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': credential,
    'X-Amz-Date': stamp,
    ...(credentials.sessionToken ? { 'X-Amz-Security-Token': credentials.sessionToken } : {}),
    ...(options.contentType ? { 'Content-Type': options.contentType } : {}),
  };
  const conditions: unknown[] = [
    { bucket: target.Bucket },
    ...Object.entries(fields).map(([name, value]) => ({ [name]: value })),
  ];
  if (options.maxSize !== undefined) conditions.push(['content-length-range', 0, options.maxSize]);
  const expiration = new Date(now.getTime() + options.expiresIn * 1000).toISOString();
  const policy = Buffer.from(JSON.stringify({ expiration, conditions })).toString('base64');
  let key: Buffer = hmac(`AWS4${credentials.secretAccessKey}`, day);
  for (const part of [region, 's3', 'aws4_request']) key = hmac(key, part);
  fields.Policy = policy;
  fields['X-Amz-Signature'] = hmac(key, policy).toString('hex');
  return { method: 'POST', url: await bucketUrl(client, target.Bucket), fields, headers: {} };
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** Where a POST upload goes: the bucket's URL, path-style or virtual-hosted like the client. */
async function bucketUrl(client: S3Client, bucket: string): Promise<string> {
  const endpoint = client.config.endpoint ? await client.config.endpoint() : undefined;
  const region = await client.config.region();
  if (!endpoint) {
    // A dotted bucket name breaks the virtual-host TLS certificate; the SDK goes path-style too.
    return bucket.includes('.')
      ? `https://s3.${region}.amazonaws.com/${encodeURIComponent(bucket)}/`
      : `https://${bucket}.s3.${region}.amazonaws.com/`;
  }
  const port = endpoint.port ? `:${endpoint.port}` : '';
  const base = `${endpoint.protocol}//${endpoint.hostname}${port}${endpoint.path.replace(/\/$/, '')}`;
  // With the trailing slash, as for virtual hosts: the key is appended to the bucket's URL.
  if (client.config.forcePathStyle) return `${base}/${encodeURIComponent(bucket)}/`;
  return `${endpoint.protocol}//${bucket}.${endpoint.hostname}${port}/`;
}

export async function createMultipart(
  client: S3Client,
  target: ObjectLocation,
  contentType?: string,
): Promise<string> {
  const answer = await client.send(
    new CreateMultipartUploadCommand({ ...target, ContentType: contentType }),
  );
  if (!answer.UploadId) throw new Error('S3 created a multipart upload without an UploadId');
  return answer.UploadId;
}

export function presignPart(
  client: S3Client,
  target: ObjectLocation,
  uploadId: string,
  partNumber: number,
  expiresIn: number,
): Promise<string> {
  const command = new UploadPartCommand({ ...target, UploadId: uploadId, PartNumber: partNumber });
  return getSignedUrl(client, command, { expiresIn });
}

/** Every part uploaded so far, across pages, so an interrupted upload can resume. */
export async function listParts(
  client: S3Client,
  target: ObjectLocation,
  uploadId: string,
): Promise<UploadedPart[]> {
  const parts: UploadedPart[] = [];
  let PartNumberMarker: string | undefined;
  do {
    const page = await client.send(
      new ListPartsCommand({ ...target, UploadId: uploadId, PartNumberMarker }),
    );
    for (const part of page.Parts ?? []) {
      if (part.PartNumber !== undefined && part.ETag !== undefined) {
        parts.push({ PartNumber: part.PartNumber, ETag: part.ETag, Size: part.Size });
      }
    }
    PartNumberMarker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
  } while (PartNumberMarker);
  return parts;
}

export async function completeMultipart(
  client: S3Client,
  target: ObjectLocation,
  uploadId: string,
  parts: UploadedPart[],
): Promise<void> {
  const ordered = [...parts]
    .sort((a, b) => a.PartNumber - b.PartNumber)
    .map(({ PartNumber, ETag }) => ({ PartNumber, ETag }));
  await client.send(
    new CompleteMultipartUploadCommand({
      ...target,
      UploadId: uploadId,
      MultipartUpload: { Parts: ordered },
    }),
  );
}

export async function abortMultipart(
  client: S3Client,
  target: ObjectLocation,
  uploadId: string,
): Promise<void> {
  await client.send(new AbortMultipartUploadCommand({ ...target, UploadId: uploadId }));
}
