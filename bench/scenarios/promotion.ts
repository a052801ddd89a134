/**
 * Scenario 3: what promoting one file from the cache to the store costs, with the storage's own
 * `copy` (S3 CopyObject, a filesystem hard link) beside moving the bytes through the worker
 * (download and re-upload, a streaming file copy).
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { FileSystemStorage, type Storage } from '../../src/index.js';
import { S3Storage } from '../../src/s3/index.js';
import { recordCommands, startS3rver, type CommandLog } from '../../test/support/s3rver.js';
import type { BenchOptions, BenchRow, BenchScenario } from '../lib/result.js';
import { MB, sideBySide, timed } from '../lib/stats.js';

/** Commands that carry the object's bytes through the client, i.e. through the worker. */
const BODY_COMMANDS = ['GetObjectCommand', 'PutObjectCommand', 'UploadPartCommand'];

/** `size` bytes as a stream of 1 MiB chunks: a 1 GB source never sits in memory whole. */
function body(size: number): Readable {
  const block = randomBytes(MB);
  return Readable.from(
    (function* () {
      for (let left = size; left > 0; left -= MB)
        yield left >= MB ? block : block.subarray(0, left);
    })(),
    { objectMode: false },
  );
}

interface Pair {
  label: string;
  cache: Storage;
  store: Storage;
  /** Checks that a copy really moved no bytes through the worker; throws otherwise. */
  checkCopy(method: string): void;
  /** Requests sent since the last call, when the storage speaks S3. */
  requests?: () => number;
}

/** Both ways of promoting `id`, interleaved; each copy is deleted before the next repetition. */
async function measure(pair: Pair, id: string, size: number, repetitions: number) {
  const { cache, store } = pair;
  let method = '';
  const requests = { ours: 0, baseline: 0 };
  let n = 0;
  const run = async (work: (target: string) => Promise<unknown>, side: 'ours' | 'baseline') => {
    const target = `promoted/${n++}-${id}`;
    pair.requests?.();
    const ms = await timed(() => work(target));
    requests[side] = pair.requests?.() ?? 0;
    const stat = await store.stat(target);
    if (stat?.size !== size) throw new Error(`${pair.label}: ${target} has ${stat?.size} bytes`);
    await store.delete(target);
    return ms;
  };
  const result = await sideBySide(
    repetitions,
    () => run(async (target) => store.upload(target, await cache.open(id)), 'baseline'),
    () =>
      run(async (target) => {
        method = await store.copy(cache, id, target);
        pair.checkCopy(method);
      }, 'ours'),
  );
  const row: BenchRow = {
    case: `${pair.label}, ${size / MB >= 1024 ? `${size / MB / 1024} GB` : `${size / MB} MB`}`,
    metric: 'ms per promotion',
    baseline: result.baseline,
    subject: result.subject,
    ratio: result.subject / result.baseline,
    repetitions: result.repetitions,
    extra: {
      'bytes through worker (ours)': 0,
      'bytes through worker (baseline)': size,
      'copy method': method,
    },
  };
  if (pair.requests) {
    row.extra!['S3 requests (ours)'] = requests.ours;
    row.extra!['S3 requests (baseline)'] = requests.baseline;
  }
  return row;
}

function s3Pair(cache: S3Storage, store: S3Storage, log: CommandLog): Pair {
  return {
    label: 'S3→S3 (s3rver)',
    cache,
    store,
    checkCopy(method) {
      // The log holds only this copy's commands (see `requests`): HeadObject and CopyObject.
      const names = log.names;
      const moved = names.filter((name) => BODY_COMMANDS.includes(name));
      if (method !== 'server' || moved.length > 0 || !names.includes('CopyObjectCommand')) {
        throw new Error(`S3 copy was not server-side: ${method}, ${names.join(', ')}`);
      }
    },
    requests() {
      // Cleared at every call: the log keeps each input, UploadPart bodies included, and would
      // otherwise hold every byte the baseline ever sent (gigabytes in the full run).
      const count = log.names.length;
      log.clear();
      return count;
    },
  };
}

function fsPair(root: string): Pair {
  return {
    label: 'filesystem→filesystem',
    cache: new FileSystemStorage({ directory: join(root, 'cache') }),
    store: new FileSystemStorage({ directory: join(root, 'store') }),
    checkCopy(method) {
      // Both folders are on one filesystem, so anything but a hard link is a surprise.
      if (method !== 'link') throw new Error(`filesystem copy was a ${method}, not a link`);
    },
  };
}

export default async function promotion({ quick }: BenchOptions): Promise<BenchScenario> {
  const sizes = quick ? [10 * MB, 100 * MB] : [10 * MB, 100 * MB, 1024 * MB];
  const repetitions = quick ? 3 : 5;
  const s3 = await startS3rver();
  const root = await mkdtemp(join(tmpdir(), 'bench-promotion-'));
  const rows: BenchRow[] = [];
  try {
    // One client for both prefixes: `copy` then knows at once that it can copy server-side.
    const client = s3.client();
    const log = recordCommands(client);
    const bucket = s3.bucket;
    const pairs = [
      s3Pair(
        new S3Storage({ client, bucket, prefix: 'cache/' }),
        new S3Storage({ client, bucket, prefix: 'store/' }),
        log,
      ),
      fsPair(root),
    ];
    for (const size of sizes) {
      const id = `source-${size}`;
      for (const pair of pairs) {
        await pair.cache.upload(id, body(size));
        rows.push(await measure(pair, id, size, repetitions));
        // Sources go before the next size, so at most one size sits on disk at a time.
        await pair.cache.delete(id);
      }
    }
  } finally {
    await s3.stop();
    await rm(root, { recursive: true, force: true });
  }
  return {
    id: 'promotion',
    title: 'Promotion cost: cache → store copy of one file',
    subject: "the store's copy(): S3 CopyObject (server-side), filesystem hard link",
    baseline: 'download and re-upload through the worker: store.upload(id, await cache.open(id))',
    rows,
    better: 'lower',
    notes: [
      'S3 rows run against an in-process s3rver sharing the machine with the worker. s3rver ' +
        "implements CopyObject by copying the file on its own disk, so the subject's time here " +
        'is that disk copy; on real S3 a server-side copy costs the worker one request and no ' +
        'bytes, and its time is the service’s, not the worker’s CPU or bandwidth.',
      'Bytes through worker (ours) is 0: every S3 copy was checked to have sent HeadObject and ' +
        'CopyObject only (no GetObject, PutObject or UploadPart), and every filesystem copy ' +
        "returned 'link'. Bytes through worker (baseline) is the file's size, read then written.",
      'Up to 5 GiB, S3 copies are one CopyObject; larger objects use UploadPartCopy (not ' +
        'measured here).',
      'Filesystem rows use two folders on one filesystem under the OS temp folder; the ' +
        "baseline's time there depends on the page cache, which holds the freshly written source.",
    ],
  };
}
