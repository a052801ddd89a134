import { S3Client } from '@aws-sdk/client-s3';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { after, before } from 'node:test';
import { S3Storage } from '../../src/s3/index.js';

/**
 * An in-process s3rver (3.7) on a random port, for tests that need a real S3 protocol peer.
 *
 * s3rver lacks four operations the S3 storage relies on. Plain s3rver answers:
 * - UploadPartCopy: 501 NotImplemented "A header you provided implies functionality that is not
 *   implemented";
 * - ListMultipartUploads: 501 NotImplemented "A parameter you provided implies functionality that
 *   is not implemented";
 * - AbortMultipartUpload and ListParts: 405 MethodNotAllowed "The specified method is not
 *   allowed against this resource."
 * Its ListObjectsV2 makes continuation tokens with DES, which Node 17+ (OpenSSL 3) refuses: any
 * listing of more than one page fails with 500 InternalError ("digital envelope routines::
 * unsupported").
 *
 * With `patched` (the default) a middleware placed in front of s3rver's router implements the
 * four operations and paged ListObjectsV2 on s3rver's own file store, so the multipart and paging
 * code paths run against a server instead of a mock. The filled-in operations skip s3rver's
 * signature check, which the others keep. It also refuses UploadPart for an upload that does not
 * exist (NoSuchUpload, as S3 does), where plain s3rver recreates the upload's folder for a part
 * that arrives after its upload was aborted.
 */

export interface TestS3Server {
  endpoint: string;
  bucket: string;
  directory: string;
  /** A new client for this server; destroyed by `stop()`. */
  client(): S3Client;
  /** Multipart uploads s3rver holds (started, neither completed nor aborted), by key. */
  openUploads(): Promise<{ key: string; uploadId: string; initiated: Date }[]>;
  stop(): Promise<void>;
}

export interface StartS3rverOptions {
  bucket?: string;
  /**
   * Implement UploadPartCopy, ListMultipartUploads, AbortMultipartUpload and paged
   * ListObjectsV2. Default true.
   */
  patched?: boolean;
  /**
   * A CORS configuration for the bucket, so pages on other origins can send requests to it (a
   * browser's direct upload): `true` for {@link OPEN_CORS}, or a `<CORSConfiguration>` XML
   * document. Default none: s3rver then refuses every preflight, as S3 does.
   */
  cors?: boolean | string;
}

/** Any origin may GET, HEAD, PUT and POST with any header, and read the ETag (multipart). */
export const OPEN_CORS = `<CORSConfiguration>
  <CORSRule>
    <AllowedOrigin>*</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>HEAD</AllowedMethod>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedMethod>POST</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>`;

export async function startS3rver(options: StartS3rverOptions = {}): Promise<TestS3Server> {
  const { bucket = 'attachments', patched = true, cors } = options;
  const configs = cors === true ? [OPEN_CORS] : typeof cors === 'string' ? [cors] : [];
  const directory = await fs.mkdtemp(path.join(tmpdir(), 's3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket, configs }],
  });
  if (patched) {
    // Just before the router (the last middleware), after the XML encoder and the logger.
    server.middleware.splice(server.middleware.length - 1, 0, gapFiller(server.store));
  }
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: S3Client[] = [];
  const uploadsOf = async (): Promise<{ key: string; uploadId: string; initiated: Date }[]> =>
    listUploads(server.store, bucket, '');
  return {
    endpoint,
    bucket,
    directory,
    client() {
      const client = createS3Client(endpoint);
      clients.push(client);
      return client;
    },
    openUploads: uploadsOf,
    async stop() {
      for (const client of clients) client.destroy();
      server.httpServer?.closeAllConnections();
      await server.close();
      await fs.rm(directory, { recursive: true, force: true });
    },
  };
}

/** The client settings s3rver needs, which MinIO, R2 and similar servers need as well. */
export function createS3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export interface CommandLog {
  /** Command names in the order the client was asked to send them (`GetObjectCommand`...). */
  readonly names: string[];
  /** The inputs of the recorded commands, in the same order. */
  readonly inputs: unknown[];
  count(name: string): number;
  clear(): void;
}

let recorders = 0;

/** Records the name and input of every command `client` sends from now on. */
export function recordCommands(client: S3Client): CommandLog {
  const names: string[] = [];
  const inputs: unknown[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      names.push(context.commandName ?? 'unknown');
      inputs.push(args.input);
      return next(args);
    },
    { step: 'initialize', name: `commandRecorder${++recorders}` },
  );
  return {
    names,
    inputs,
    count: (name) => names.filter((entry) => entry === name).length,
    clear: () => {
      names.splice(0);
      inputs.splice(0);
    },
  };
}

// --- s3rver's untyped surface, as far as this file uses it -------------------------------------

interface S3rverStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  getMetadata(bucket: string, key: string): Promise<Record<string, string>>;
  putPart(
    bucket: string,
    uploadId: string,
    part: number,
    content: Readable,
  ): Promise<{ md5: string }>;
  listObjects(
    bucket: string,
    options: { prefix?: string; delimiter?: string; startAfter?: string; maxKeys?: number },
  ): Promise<{ objects: StoredObject[]; commonPrefixes: string[]; isTruncated: boolean }>;
}

interface StoredObject {
  key: string;
  size: number;
  lastModifiedDate: Date;
  metadata: Record<string, string>;
}

interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  headers: IncomingMessage['headers'];
  status: number;
  body: unknown;
}

type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

interface S3rverInstance {
  store: S3rverStore;
  middleware: Middleware[];
  httpServer?: Server;
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);
const S3rver = require('s3rver') as new (options: object) => S3rverInstance;
const S3Error = require('s3rver/lib/models/error') as new (
  code: string,
  message?: string,
  detail?: object,
) => Error;

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

function gapFiller(store: S3rverStore): Middleware {
  return async (ctx, next) => {
    const [bucket, ...keyParts] = ctx.path.slice(1).split('/').map(decodeURIComponent);
    const key = keyParts.join('/');
    const uploadId = typeof ctx.query.uploadId === 'string' ? ctx.query.uploadId : undefined;
    if (ctx.method === 'GET' && !key && ctx.query['list-type'] === '2') {
      ctx.body = await listObjectsV2(store, bucket, ctx.query);
    } else if (ctx.method === 'GET' && !key && 'uploads' in ctx.query) {
      const prefix = typeof ctx.query.prefix === 'string' ? ctx.query.prefix : '';
      const uploads = await listUploads(store, bucket, prefix);
      ctx.body = {
        ListMultipartUploadsResult: {
          '@': { xmlns: XMLNS },
          Bucket: bucket,
          Prefix: prefix,
          IsTruncated: false,
          Upload: uploads.map((upload) => ({
            Key: upload.key,
            UploadId: upload.uploadId,
            Initiated: upload.initiated.toISOString(),
          })),
        },
      };
    } else if (ctx.method === 'GET' && key && uploadId) {
      ctx.body = await listParts(
        await uploadDir(store, bucket, key, uploadId),
        bucket,
        key,
        uploadId,
      );
    } else if (ctx.method === 'DELETE' && key && uploadId) {
      await fs.rm(await uploadDir(store, bucket, key, uploadId), { recursive: true });
      ctx.status = 204;
    } else if (ctx.method === 'PUT' && key && uploadId && !ctx.headers['x-amz-copy-source']) {
      await uploadDir(store, bucket, key, uploadId);
      await next();
    } else if (ctx.method === 'PUT' && key && uploadId && ctx.headers['x-amz-copy-source']) {
      await uploadDir(store, bucket, key, uploadId);
      const copy = await readCopySource(store, ctx);
      const { md5 } = await store.putPart(bucket, uploadId, Number(ctx.query.partNumber), copy);
      ctx.body = {
        CopyPartResult: {
          '@': { xmlns: XMLNS },
          LastModified: new Date().toISOString(),
          ETag: `"${md5}"`,
        },
      };
    } else {
      await next();
    }
  };
}

/** ListObjectsV2 as s3rver answers it, with a plain (base64 key) continuation token. */
async function listObjectsV2(
  store: S3rverStore,
  bucket: string,
  query: KoaContext['query'],
): Promise<object> {
  const text = (name: string): string | undefined => {
    const value = query[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const token = text('continuation-token');
  const options = {
    prefix: text('prefix') ?? '',
    delimiter: text('delimiter'),
    startAfter: token ? Buffer.from(token, 'base64url').toString() : text('start-after'),
    maxKeys: Math.min(Number(text('max-keys') ?? 1000), 1000),
  };
  const result = await store.listObjects(bucket, options);
  const last = result.objects.at(-1)?.key;
  return {
    ListBucketResult: {
      '@': { xmlns: XMLNS },
      Name: bucket,
      Prefix: options.prefix,
      StartAfter: token ? undefined : options.startAfter,
      ContinuationToken: token,
      NextContinuationToken:
        result.isTruncated && last ? Buffer.from(last).toString('base64url') : undefined,
      KeyCount: result.objects.length,
      MaxKeys: options.maxKeys,
      Delimiter: options.delimiter,
      IsTruncated: result.isTruncated,
      Contents: result.objects.map((object) => ({
        Key: object.key,
        LastModified: object.lastModifiedDate.toISOString(),
        ETag: object.metadata.etag,
        Size: object.size,
        StorageClass: 'STANDARD',
      })),
      CommonPrefixes: result.commonPrefixes.map((prefix) => ({ Prefix: prefix })),
    },
  };
}

async function listUploads(
  store: S3rverStore,
  bucket: string,
  prefix: string,
): Promise<{ key: string; uploadId: string; initiated: Date }[]> {
  const root = store.getResourcePath(bucket, undefined, 'uploads');
  const ids = await fs.readdir(root).catch(() => []);
  const uploads = await Promise.all(
    ids.map(async (uploadId) => {
      const keyFile = path.join(root, uploadId, 'key');
      const read = Promise.all([fs.readFile(keyFile, 'utf8'), fs.stat(keyFile)]);
      // No key: a folder s3rver made for a part that passed the check above just as its upload
      // was aborted. S3 keeps no upload for it either.
      const found = await read.catch((error: NodeJS.ErrnoException) =>
        error.code === 'ENOENT' ? null : Promise.reject(error),
      );
      return found && { key: found[0], uploadId, initiated: found[1].mtime };
    }),
  );
  return uploads.filter((upload) => upload !== null && upload.key.startsWith(prefix)) as {
    key: string;
    uploadId: string;
    initiated: Date;
  }[];
}

/**
 * ListParts over s3rver's upload folder. A part counts once its `.md5` file exists: s3rver writes
 * that after the last byte, so a part whose request was cut off is not listed, as on S3.
 */
async function listParts(dir: string, bucket: string, key: string, uploadId: string) {
  const names = await fs.readdir(dir);
  const numbers = names
    .filter((name) => /^\d+\.md5$/.test(name))
    .map((name) => Number(name.slice(0, -4)))
    .sort((a, b) => a - b);
  const parts = await Promise.all(
    numbers.map(async (number) => {
      const file = path.join(dir, String(number));
      const [md5, stat] = await Promise.all([fs.readFile(`${file}.md5`, 'utf8'), fs.stat(file)]);
      return {
        PartNumber: number,
        ETag: `"${md5}"`,
        Size: stat.size,
        LastModified: stat.mtime.toISOString(),
      };
    }),
  );
  return {
    ListPartsResult: {
      '@': { xmlns: XMLNS },
      Bucket: bucket,
      Key: key,
      UploadId: uploadId,
      IsTruncated: false,
      Part: parts,
    },
  };
}

/** The folder of an upload in progress, or NoSuchUpload like S3. */
async function uploadDir(
  store: S3rverStore,
  bucket: string,
  key: string,
  id: string,
): Promise<string> {
  const dir = path.join(store.getResourcePath(bucket, undefined, 'uploads'), path.basename(id));
  const storedKey = await fs.readFile(path.join(dir, 'key'), 'utf8').catch(() => null);
  if (storedKey !== key) {
    throw new S3Error('NoSuchUpload', 'The specified upload does not exist.', { UploadId: id });
  }
  return dir;
}

/** The byte range of the object that an UploadPartCopy request names, with S3's checks. */
async function readCopySource(store: S3rverStore, ctx: KoaContext): Promise<Readable> {
  const header = String(ctx.headers['x-amz-copy-source']).replace(/^\//, '').split('?')[0];
  const [bucket, ...keyParts] = header.split('/').map(decodeURIComponent);
  const key = keyParts.join('/');
  const metadata = await store.getMetadata(bucket, key).catch(() => {
    throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: key });
  });
  const ifMatch = ctx.headers['x-amz-copy-source-if-match'];
  if (typeof ifMatch === 'string' && unquote(ifMatch) !== unquote(metadata.etag)) {
    throw new S3Error(
      'PreconditionFailed',
      'At least one of the pre-conditions you specified did not hold',
    );
  }
  const size = Number(metadata['content-length']);
  const rangeHeader = ctx.headers['x-amz-copy-source-range'];
  const match = typeof rangeHeader === 'string' ? /^bytes=(\d+)-(\d+)$/.exec(rangeHeader) : null;
  const [start, end] = match ? [Number(match[1]), Number(match[2])] : [0, size - 1];
  if (start > end || end >= size) {
    throw new S3Error('InvalidRange', 'The requested range is not satisfiable');
  }
  return createReadStream(store.getResourcePath(bucket, key, 'object'), { start, end });
}

function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/"/g, '');
}

export interface S3Storages {
  /** Cache and store as the prefixes `cache/` and `store/` of one bucket, sharing one client. */
  storages: Record<string, S3Storage>;
  server: TestS3Server;
  /** Every command that shared client sends. */
  log: CommandLog;
}

/**
 * Registers hooks that start an s3rver before the suite and stop it after. `storages` is filled
 * before later `before` hooks run, so it can be handed to `useHarness` at declaration.
 */
export function useS3Storages(): S3Storages {
  const suite = { storages: {} } as S3Storages;
  before(async () => {
    suite.server = await startS3rver();
    const client = suite.server.client();
    suite.log = recordCommands(client);
    const bucket = suite.server.bucket;
    suite.storages.cache = new S3Storage({ client, bucket, prefix: 'cache/' });
    suite.storages.store = new S3Storage({ client, bucket, prefix: 'store/' });
  });
  after(async () => suite.server?.stop());
  return suite;
}
