import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable } from 'node:stream';
import { FileNotFoundError, contentDisposition, assertSafeFileId } from '../core/index.js';

import {
  encodeIdPath,
  resolveByteRange,
  streamCopy,
  type ByteRange,
  type CopyMethod,
  type DirectUploadStorage,
  type PresignedUpload,
  type PresignUploadOptions,
  type Storage,
  type StoredObjectListing,
  type StoredObjectStat,
  type UploadedPart,
  type UploadOptions,
  type UrlOptions,
} from '../storage/index.js';
import {
  abortUploadsStartedBefore,
  copySourceHeader,
  multipartCopy,
  uploadObject,
} from './multipart.js';
import { deleteObjects } from './delete-objects.js';
import { s3Location } from './location.js';
import { exactRange } from './ranged-get.js';
import {
  checkExpiresIn,
  resolveS3StorageOptions,
  type ResolvedS3StorageOptions,
  type S3StorageOptions,
} from './options.js';
import {
  clientIdentity,
  httpStatusOf,
  isMissingKey,
  isSafeId,
  s3ErrorName,
  type ObjectLocation,
} from './s3.utils.js';
import {
  abortMultipart,
  completeMultipart,
  createMultipart,
  listParts,
  presignObjectUpload,
  presignPart,
} from './direct-uploads.js';

/** The library always says how long a URL lasts; anyone else calling `url()` gets an hour. */
const DEFAULT_URL_EXPIRES_IN = 3600;
const STORAGE_NAME = 's3';

/**
 * Stores files as objects of an S3 bucket (or an S3-compatible server), under an optional key
 * prefix. Uploads stream through multipart uploads that become visible only when complete, and
 * are aborted on failure, so a failed upload leaves no object. Copies between storages on the
 * same endpoint and credentials happen server-side.
 */
export class S3Storage implements Storage, DirectUploadStorage {
  readonly client: S3Client;
  readonly bucket: string;
  /** The key prefix, empty or ending in `/`. */
  readonly prefix: string;
  /** `s3://<endpoint host, or 'aws'>/<bucket>/<prefix>`; see `s3Location` for a given client. */
  readonly location: string;
  private readonly options: ResolvedS3StorageOptions;

  constructor(options: S3StorageOptions) {
    this.options = resolveS3StorageOptions(options);
    ({ client: this.client, bucket: this.bucket, prefix: this.prefix } = this.options);
    this.location = s3Location(this.client, options.clientConfig, this.bucket, this.prefix);
  }

  async upload(id: string, body: Readable | Buffer, options: UploadOptions = {}): Promise<void> {
    const { partSize } = this.options;
    await uploadObject(this.client, this.target(id), body, { ...options, partSize });
  }

  async open(id: string, range?: ByteRange): Promise<Readable> {
    const Key = this.key(id);
    // Reject impossible ranges (negative, reversed) before asking; the size check follows.
    if (range) resolveByteRange(range, Number.MAX_SAFE_INTEGER);
    let response: GetObjectCommandOutput;
    try {
      response = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key,
          Range: range ? `bytes=${range.start}-${range.end ?? ''}` : undefined,
        }),
      );
    } catch (error) {
      if (isMissingKey(error)) throw this.notFound(id);
      if (s3ErrorName(error) === 'InvalidRange' || httpStatusOf(error) === 416) {
        throw new RangeError(`Range ${range?.start}-${range?.end ?? ''} lies outside ${id}`);
      }
      throw error;
    }
    const body = response.Body;
    if (!(body instanceof Readable)) throw new Error('GetObject returned no Node.js stream');
    return range ? exactRange(body, range, response) : body;
  }

  async stat(id: string): Promise<StoredObjectStat | null> {
    const head = await this.head(this.key(id));
    if (!head) return null;
    const stat: StoredObjectStat = {
      size: head.ContentLength ?? 0,
      lastModified: head.LastModified ?? new Date(0),
    };
    if (head.ContentType !== undefined) stat.contentType = head.ContentType;
    return stat;
  }

  async delete(id: string): Promise<void> {
    // S3 answers 204 for missing keys too, which makes this idempotent.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(id) }));
  }

  async deleteMany(ids: readonly string[]): Promise<void> {
    const keys = [...new Set(ids.map((id) => this.key(id)))]; // every id is checked first
    await deleteObjects(this.client, this.bucket, keys);
  }

  async copy(source: Storage, sourceId: string, id: string): Promise<CopyMethod> {
    assertSafeFileId(sourceId);
    const Key = this.key(id);
    if (source instanceof S3Storage && (await this.sharesServerWith(source))) {
      return this.serverSideCopy(source, sourceId, Key);
    }
    return streamCopy(source, sourceId, this, id);
  }

  async *list(prefix = ''): AsyncGenerator<StoredObjectListing> {
    let ContinuationToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix + prefix,
          ContinuationToken,
        }),
      );
      for (const { Key, Size, LastModified } of page.Contents ?? []) {
        const id = Key?.slice(this.prefix.length);
        // Keys no id can name (folder markers like `a/`, `a//b`) are not files of this storage.
        if (id === undefined || !isSafeId(id)) continue;
        yield { id, size: Size ?? 0, lastModified: LastModified ?? new Date(0) };
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  /**
   * `publicUrl` + id when the storage has a public URL; otherwise a presigned GET URL valid for
   * `expiresIn` seconds, which downloads as `filename` when one is given.
   */
  async url(id: string, options: UrlOptions = {}): Promise<string> {
    const Key = this.key(id);
    if (this.options.publicUrl !== undefined)
      return `${this.options.publicUrl}/${encodeIdPath(id)}`;
    const expiresIn = options.expiresIn ?? DEFAULT_URL_EXPIRES_IN;
    checkExpiresIn(expiresIn);
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key,
      // `attachment`: the stored Content-Type came from the uploader, so never render it inline.
      ResponseContentDisposition: options.filename
        ? contentDisposition('attachment', options.filename)
        : undefined,
    });
    return getSignedUrl(this.client, command, { expiresIn });
  }

  /** Aborts the multipart uploads under the prefix that were started before `olderThan`. */
  async removeIncompleteUploads(olderThan: Date): Promise<number> {
    if (!(olderThan instanceof Date) || Number.isNaN(olderThan.getTime())) {
      throw new TypeError('S3Storage: removeIncompleteUploads needs a valid Date');
    }
    return abortUploadsStartedBefore(
      this.client,
      { Bucket: this.bucket, Prefix: this.prefix },
      olderThan,
    );
  }

  // Direct uploads from browsers: thin wrappers, the requests are built in s3/direct-uploads.ts.

  presignUpload(id: string, options: PresignUploadOptions): Promise<PresignedUpload> {
    checkExpiresIn(options.expiresIn);
    return presignObjectUpload(this.client, this.target(id), options);
  }

  createMultipartUpload(id: string, options: { contentType?: string } = {}): Promise<string> {
    return createMultipart(this.client, this.target(id), options.contentType);
  }

  presignUploadPart(id: string, uploadId: string, part: number, expiresIn: number) {
    checkExpiresIn(expiresIn);
    return presignPart(this.client, this.target(id), uploadId, part, expiresIn);
  }

  listUploadedParts(id: string, uploadId: string): Promise<UploadedPart[]> {
    return listParts(this.client, this.target(id), uploadId);
  }

  completeMultipartUpload(id: string, uploadId: string, parts: UploadedPart[]): Promise<void> {
    return completeMultipart(this.client, this.target(id), uploadId, parts);
  }

  abortMultipartUpload(id: string, uploadId: string): Promise<void> {
    return abortMultipart(this.client, this.target(id), uploadId);
  }

  private target(id: string): ObjectLocation {
    return { Bucket: this.bucket, Key: this.key(id) };
  }

  /** The object key of `id`, after checking the id. */
  private key(id: string): string {
    assertSafeFileId(id);
    return this.prefix + id;
  }

  private async head(Key: string): Promise<HeadObjectCommandOutput | null> {
    try {
      return await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
    } catch (error) {
      if (isMissingKey(error)) return null;
      throw error;
    }
  }

  private async sharesServerWith(other: S3Storage): Promise<boolean> {
    if (other.client === this.client) return true;
    const [mine, theirs] = await Promise.all([
      clientIdentity(this.client),
      clientIdentity(other.client),
    ]);
    return mine === theirs;
  }

  private async serverSideCopy(
    source: S3Storage,
    sourceId: string,
    Key: string,
  ): Promise<CopyMethod> {
    const from = { Bucket: source.bucket, Key: source.key(sourceId) };
    const to = { Bucket: this.bucket, Key };
    const head = await source.head(from.Key);
    if (!head) throw source.notFound(sourceId);
    // S3 refuses to copy an object onto itself unchanged, and there is nothing to do anyway.
    if (from.Bucket === to.Bucket && from.Key === to.Key) return 'server';
    if ((head.ContentLength ?? 0) > this.options.multipartCopyThreshold) {
      await multipartCopy(this.client, {
        source: from,
        target: to,
        head,
        partSize: this.options.copyPartSize,
      });
      return 'server';
    }
    try {
      await this.client.send(new CopyObjectCommand({ ...to, CopySource: copySourceHeader(from) }));
    } catch (error) {
      if (s3ErrorName(error) === 'NoSuchKey') throw source.notFound(sourceId); // deleted since HEAD
      throw error;
    }
    return 'server';
  }

  private notFound(id: string): FileNotFoundError {
    return new FileNotFoundError(id, STORAGE_NAME);
  }
}
