import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type DeleteObjectsCommandInput,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileTooLargeError, InvalidFileIdError } from '../../src/core/errors/index.js';
import { contentDisposition } from '../../src/core/content-disposition.js';
import { S3Storage } from '../../src/s3/index.js';
import { FileSystemStorage, MemoryStorage } from '../../src/storage/index.js';
import {
  type CommandLog,
  createS3Client,
  recordCommands,
  startS3rver,
  type TestS3Server,
} from '../support/s3rver.js';
import { listIds, readAll, storageContract, streamOf } from '../../src/testing/index.js';

const MiB = 1024 * 1024;
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

storageContract('S3Storage (other: S3Storage, same bucket)', async () => {
  const server = await startS3rver();
  const client = server.client();
  const { bucket } = server;
  return {
    storage: new S3Storage({ client, bucket, prefix: 'cache/' }),
    other: new S3Storage({ client, bucket, prefix: 'store/' }),
    teardown: () => server.stop(),
  };
});

storageContract('S3Storage (other: memory)', async () => {
  const server = await startS3rver();
  return {
    storage: new S3Storage({ client: server.client(), bucket: server.bucket, prefix: 'store' }),
    other: new MemoryStorage(),
    teardown: () => server.stop(),
  };
});

describe('S3Storage', () => {
  let server: TestS3Server;
  let client: S3Client;
  let log: CommandLog;
  let cache: S3Storage;
  let store: S3Storage;
  let counter = 0;
  /** A folder of its own for each test. */
  const fresh = (): string => `s3-${process.pid}/${++counter}`;

  before(async () => {
    server = await startS3rver();
    client = server.client();
    log = recordCommands(client);
    cache = new S3Storage({ client, bucket: server.bucket, prefix: 'cache/' });
    store = new S3Storage({ client, bucket: server.bucket, prefix: 'store/' });
  });
  after(() => server.stop());

  it('promotes from cache/ to store/ with CopyObject, never reading the bytes', async () => {
    const id = `${fresh()}/photo.jpg`;
    const bytes = randomBytes(200_000);
    await cache.upload(id, bytes, { contentType: 'image/jpeg' });
    log.clear();
    assert.equal(await store.copy(cache, id, id), 'server');
    assert.deepEqual(log.names, ['HeadObjectCommand', 'CopyObjectCommand']);
    assert.equal((await store.stat(id))?.contentType, 'image/jpeg');
    assert.equal(sha256(await readAll(await store.open(id))), sha256(bytes));
    assert.ok(await cache.stat(id));
  });

  it('copies server-side between separate clients of one endpoint and account', async () => {
    const id = `${fresh()}/a.bin`;
    const other = new S3Storage({ client: server.client(), bucket: server.bucket, prefix: 'x' });
    await other.upload(id, Buffer.from('shared server'));
    log.clear();
    assert.equal(await store.copy(other, id, id), 'server');
    assert.equal(log.count('GetObjectCommand'), 0);
    assert.equal((await readAll(await store.open(id))).toString(), 'shared server');
  });

  it('copies large objects in parts with UploadPartCopy, byte for byte', async () => {
    const folder = fresh();
    const big = new S3Storage({
      client,
      bucket: server.bucket,
      prefix: 'store/',
      multipartCopyThreshold: 4096,
      copyPartSize: 1000,
    });
    const bytes = randomBytes(10_017);
    await cache.upload(`${folder}/source.png`, bytes, { contentType: 'image/png' });
    log.clear();
    assert.equal(await big.copy(cache, `${folder}/source.png`, `${folder}/copy.png`), 'server');
    assert.equal(log.count('CreateMultipartUploadCommand'), 1);
    assert.equal(log.count('UploadPartCopyCommand'), 11);
    assert.equal(log.count('CompleteMultipartUploadCommand'), 1);
    assert.equal(log.count('GetObjectCommand') + log.count('CopyObjectCommand'), 0);
    const ranges = log.inputs
      .filter((_, index) => log.names[index] === 'UploadPartCopyCommand')
      .map((input) => (input as { CopySourceRange?: string }).CopySourceRange)
      .sort();
    assert.ok(ranges.includes('bytes=0-999') && ranges.includes('bytes=10000-10016'), `${ranges}`);
    const copy = await readAll(await big.open(`${folder}/copy.png`));
    assert.equal(copy.length, bytes.length);
    assert.equal(sha256(copy), sha256(bytes));
    assert.equal((await big.stat(`${folder}/copy.png`))?.contentType, 'image/png');
    assert.deepEqual(await server.openUploads(), []);
    // Small objects still take the single CopyObject.
    await cache.upload(`${folder}/small.txt`, Buffer.from('small'));
    log.clear();
    await big.copy(cache, `${folder}/small.txt`, `${folder}/small.txt`);
    assert.deepEqual(log.names, ['HeadObjectCommand', 'CopyObjectCommand']);
  });

  it('streams copies from a file-system or memory storage, keeping the content type', async () => {
    const folder = fresh();
    const dir = await fs.mkdtemp(path.join(tmpdir(), 's3-copy-'));
    try {
      const disk = new FileSystemStorage({ directory: dir });
      const memory = new MemoryStorage();
      await disk.upload('on-disk.bin', randomBytes(3000));
      await memory.upload('in-memory.txt', Buffer.from('from memory'), {
        contentType: 'text/plain',
      });
      log.clear();
      assert.equal(await store.copy(disk, 'on-disk.bin', `${folder}/a.bin`), 'stream');
      assert.equal(await store.copy(memory, 'in-memory.txt', `${folder}/b.txt`), 'stream');
      assert.equal(log.count('CopyObjectCommand'), 0);
      assert.deepEqual(
        await readAll(await store.open(`${folder}/a.bin`)),
        await readAll(await disk.open('on-disk.bin')),
      );
      assert.equal((await readAll(await store.open(`${folder}/b.txt`))).toString(), 'from memory');
      assert.equal((await store.stat(`${folder}/b.txt`))?.contentType, 'text/plain');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('streams copies between storages on different servers', async () => {
    const elsewhere = await startS3rver({ bucket: 'elsewhere' });
    try {
      const remote = new S3Storage({ client: elsewhere.client(), bucket: 'elsewhere' });
      const id = `${fresh()}/remote.bin`;
      await remote.upload(id, Buffer.from('remote bytes'));
      assert.equal(await store.copy(remote, id, id), 'stream');
      assert.equal((await readAll(await store.open(id))).toString(), 'remote bytes');
    } finally {
      await elsewhere.stop();
    }
  });

  it('lists page by page and deletes 2,500 keys in 3 DeleteObjects requests', async () => {
    const folder = fresh();
    const ids = Array.from(
      { length: 2500 },
      (_, i) => `${folder}/${String(i).padStart(4, '0')}.txt`,
    );
    for (let start = 0; start < ids.length; start += 50) {
      await Promise.all(
        ids.slice(start, start + 50).map((id) => cache.upload(id, Buffer.from(id))),
      );
    }
    log.clear();
    assert.deepEqual(await listIds(cache, `${folder}/`), ids);
    assert.equal(log.count('ListObjectsV2Command'), 3);
    log.clear();
    await cache.deleteMany(ids);
    assert.deepEqual(log.names, Array(3).fill('DeleteObjectsCommand'));
    const batchSizes = log.inputs.map(
      (input) => (input as DeleteObjectsCommandInput).Delete?.Objects?.length,
    );
    assert.deepEqual(batchSizes, [1000, 1000, 500]);
    assert.deepEqual(await listIds(cache, `${folder}/`), []);
  });

  it('presigns GET URLs that download under the requested filename', async () => {
    const id = `${fresh()}/report.pdf`;
    const bytes = randomBytes(4096);
    await store.upload(id, bytes, { contentType: 'application/pdf' });
    const filename = 'Résumé "final" (2).pdf';
    const url = await store.url(id, { expiresIn: 60, filename });
    assert.ok(url.startsWith(`${server.endpoint}/${server.bucket}/store/`), url);
    assert.match(url, /X-Amz-Expires=60/);
    const response = await fetch(url);
    assert.equal(response.status, 200);
    assert.equal(
      response.headers.get('content-disposition'),
      contentDisposition('attachment', filename),
    );
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), bytes);
    const plain = await fetch(await store.url(id));
    assert.equal(plain.status, 200);
    assert.equal(plain.headers.get('content-disposition'), null);
    await plain.arrayBuffer();
    await assert.rejects(store.url(id, { expiresIn: 8 * 24 * 3600 }), RangeError);
    await assert.rejects(store.url('../x'), InvalidFileIdError);
  });

  it('builds public URLs from publicUrl', async () => {
    const cdn = new S3Storage({
      client,
      bucket: server.bucket,
      prefix: 'store/',
      publicUrl: 'https://cdn.example.com/store/',
    });
    assert.equal(await cdn.url('a b/c#1.png'), 'https://cdn.example.com/store/a%20b/c%231.png');
  });

  /** Parts of 5 MiB, the least S3 takes, so a few MiB already make a multipart upload. */
  const smallParts = (): S3Storage =>
    new S3Storage({ client, bucket: server.bucket, prefix: 'cache/', partSize: 5 * MiB });

  it('stops a stream over maxSize and leaves no object and no multipart upload', async () => {
    const id = `${fresh()}/too-big.bin`;
    const chunks = Array.from({ length: 12 * 16 }, () => randomBytes(64 * 1024)); // 12 MiB
    log.clear();
    await assert.rejects(
      smallParts().upload(id, streamOf(chunks), { maxSize: 7 * MiB }),
      (error) => {
        assert.ok(error instanceof FileTooLargeError);
        assert.equal(error.maxSize, 7 * MiB);
        return true;
      },
    );
    // The first 5 MiB part was on its way before the limit tripped: the upload was aborted.
    assert.equal(log.count('CreateMultipartUploadCommand'), 1);
    assert.equal(log.count('AbortMultipartUploadCommand'), 1);
    assert.equal(log.count('CompleteMultipartUploadCommand'), 0);
    assert.equal(await cache.stat(id), null);
    assert.deepEqual(await server.openUploads(), []);
  });

  it('aborts the multipart upload when the source fails after the first part', async () => {
    const id = `${fresh()}/broken.bin`;
    const failure = new Error('connection reset');
    const chunks = Array.from({ length: 7 * 16 }, () => randomBytes(64 * 1024)); // 7 MiB
    log.clear();
    const upload = smallParts().upload(id, streamOf(chunks, failure));
    await assert.rejects(upload, (error) => error === failure);
    assert.equal(log.count('CreateMultipartUploadCommand'), 1);
    assert.equal(log.count('AbortMultipartUploadCommand'), 1);
    assert.equal(await cache.stat(id), null);
    assert.deepEqual(await server.openUploads(), []);
  });

  it('stores empty files, from a Buffer or a stream', async () => {
    const folder = fresh();
    await cache.upload(`${folder}/a`, Buffer.alloc(0));
    await cache.upload(`${folder}/b`, streamOf([]), { maxSize: 10 });
    for (const id of [`${folder}/a`, `${folder}/b`]) {
      assert.equal((await cache.stat(id))?.size, 0);
      assert.equal((await readAll(await cache.open(id))).length, 0);
      await assert.rejects(cache.open(id, { start: 0 }), RangeError);
    }
  });

  it('uploads streams of several parts intact', async () => {
    const id = `${fresh()}/parts.bin`;
    const chunks = Array.from({ length: 11 * 16 }, () => randomBytes(64 * 1024)); // 11 MiB
    const small = smallParts();
    log.clear();
    await small.upload(id, streamOf(chunks), { maxSize: 20 * MiB, contentType: 'video/mp4' });
    assert.equal(log.count('UploadPartCommand'), 3);
    const read = await readAll(await small.open(id));
    assert.equal(sha256(read), sha256(Buffer.concat(chunks)));
    assert.equal((await small.stat(id))?.contentType, 'video/mp4');
  });

  it('removes multipart uploads left behind, only older ones and only under its prefix', async () => {
    const folder = fresh();
    const leave = async (Key: string): Promise<string> => {
      const { UploadId } = await client.send(
        new CreateMultipartUploadCommand({ Bucket: server.bucket, Key }),
      );
      await client.send(
        new UploadPartCommand({
          Bucket: server.bucket,
          Key,
          UploadId,
          PartNumber: 1,
          Body: Buffer.from('part'),
        }),
      );
      return UploadId ?? '';
    };
    const cached = await leave(`cache/${folder}/left.bin`);
    const stored = await leave(`store/${folder}/left.bin`);
    assert.equal(await cache.removeIncompleteUploads(new Date(Date.now() - 3600_000)), 0);
    assert.equal(await cache.removeIncompleteUploads(new Date(Date.now() + 1000)), 1);
    const open = (await server.openUploads()).map((upload) => upload.uploadId);
    assert.ok(!open.includes(cached) && open.includes(stored));
    assert.equal(await store.removeIncompleteUploads(new Date(Date.now() + 1000)), 1);
    assert.deepEqual(await server.openUploads(), []);
  });

  it('keeps ids relative to the prefix and skips keys that are not ids', async () => {
    const folder = fresh();
    await cache.upload(`${folder}/a.txt`, Buffer.from('a'));
    await client.send(
      new PutObjectCommand({
        Bucket: server.bucket,
        Key: `cache/${folder}/marker/`,
        Body: Buffer.alloc(0),
      }),
    );
    assert.deepEqual(await listIds(cache, `${folder}/`), [`${folder}/a.txt`]);
    assert.deepEqual(await listIds(store, `${folder}/`), []);
    assert.equal(await store.stat(`${folder}/a.txt`), null);
  });

  it('builds its own client from clientConfig, with safe checksum settings for custom endpoints', async () => {
    const built = new S3Storage({
      clientConfig: {
        endpoint: server.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      },
      bucket: server.bucket,
      prefix: 'cache/',
    });
    try {
      assert.equal(await built.client.config.requestChecksumCalculation(), 'WHEN_REQUIRED');
      assert.equal(await built.client.config.responseChecksumValidation(), 'WHEN_REQUIRED');
      // A streamed upload is where the aws-chunked framing would end up inside the object.
      const id = `${fresh()}/streamed.bin`;
      const chunks = [randomBytes(1000), randomBytes(1000)];
      await built.upload(id, streamOf(chunks));
      assert.deepEqual(await readAll(await built.open(id)), Buffer.concat(chunks));
      // Same endpoint and access key as the shared client: copies stay server-side.
      assert.equal(await store.copy(built, id, id), 'server');
    } finally {
      built.client.destroy();
    }
    const aws = new S3Storage({ clientConfig: { region: 'eu-west-1' }, bucket: 'b' });
    assert.equal(await aws.client.config.requestChecksumCalculation(), 'WHEN_SUPPORTED');
    aws.client.destroy();
  });

  it('explains bad options', () => {
    const bucket = 'b';
    const config = { region: 'us-east-1' };
    const cases: [object, RegExp][] = [
      [{ bucket }, /give `client` or `clientConfig`/],
      [{ client, clientConfig: config, bucket }, /either `client` or `clientConfig`/],
      [{ client, bucket, requestChecksumCalculation: 'WHEN_REQUIRED' }, /set them on `client`/],
      [{ clientConfig: config, bucket, responseChecksumValidation: 'SOMETIMES' }, /WHEN_REQUIRED/],
      [{ client }, /`bucket`/],
      [{ client, bucket, prefix: '../up' }, /`prefix`/],
      [{ client, bucket, prefix: '/abs/' }, /`prefix`/],
      [{ client, bucket, publicUrl: 'cdn.example.com' }, /`publicUrl`/],
      [{ client, bucket, partSize: MiB }, /`partSize`/],
      [{ client, bucket, multipartCopyThreshold: 6 * 1024 * MiB }, /`multipartCopyThreshold`/],
      [{ client, bucket, copyPartSize: 0 }, /`copyPartSize`/],
    ];
    for (const [options, message] of cases) {
      assert.throws(
        () => new S3Storage(options as ConstructorParameters<typeof S3Storage>[0]),
        message,
        JSON.stringify(Object.keys(options)),
      );
    }
    assert.equal(new S3Storage({ client, bucket, prefix: 'nested/cache' }).prefix, 'nested/cache/');
  });

  it('plain s3rver 3.7 lacks what test/support/s3rver.ts fills in', async () => {
    const plain = await startS3rver({ patched: false });
    try {
      const raw = createS3Client(plain.endpoint);
      const Bucket = plain.bucket;
      await raw.send(new PutObjectCommand({ Bucket, Key: 'src', Body: 'x' }));
      const { UploadId } = await raw.send(new CreateMultipartUploadCommand({ Bucket, Key: 'dst' }));
      const copyPart = new UploadPartCopyCommand({
        Bucket,
        Key: 'dst',
        UploadId,
        PartNumber: 1,
        CopySource: `${Bucket}/src`,
      });
      await assert.rejects(raw.send(copyPart), { name: 'NotImplemented' });
      await assert.rejects(raw.send(new ListMultipartUploadsCommand({ Bucket })), {
        name: 'NotImplemented',
      });
      const abort = new AbortMultipartUploadCommand({ Bucket, Key: 'dst', UploadId });
      await assert.rejects(raw.send(abort), { name: 'MethodNotAllowed' });
      await raw.send(new PutObjectCommand({ Bucket, Key: 'src2', Body: 'x' }));
      const paged = new ListObjectsV2Command({ Bucket, MaxKeys: 1 });
      await assert.rejects(raw.send(paged), { name: 'InternalError' }); // DES in OpenSSL 3
      raw.destroy();
    } finally {
      await plain.stop();
    }
  });
});
