/**
 * Scenario 2: the upload endpoint's throughput and memory, beside a bare `node:http`
 * server that pipes the body to a file (the practical limit of the machine) and beside Multer's
 * memory storage (how many Nest apps take uploads today). Each server runs in a child process of
 * its own, so the peak RSS reported is the server's and not the client's.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchOptions, BenchRow, BenchScenario } from '../lib/result.js';
import { MB, median } from '../lib/stats.js';
import type { UploadServerKind } from '../upload/server-process.js';
import {
  deleteUploads,
  startUploadServer,
  uploadOnce,
  type UploadServer,
} from '../upload/servers.js';

const KINDS: UploadServerKind[] = ['bare', 'ours', 'multer'];
const WARM_UP_UPLOADS = 5;

export default async function uploadThroughput(options: BenchOptions): Promise<BenchScenario> {
  const sizes = options.quick ? [10 * MB, 100 * MB] : [10 * MB, 100 * MB, 1024 * MB];
  const repetitions = options.quick ? 3 : 5;
  const root = await mkdtemp(join(tmpdir(), 'bench-upload-'));
  const servers: UploadServer[] = [];
  try {
    for (const kind of KINDS) {
      const directory = join(root, kind);
      await mkdir(directory);
      servers.push(await startUploadServer(kind, directory));
    }
    const byKind = (kind: UploadServerKind) => servers.find((server) => server.kind === kind)!;

    const idle = await Promise.all(servers.map((server) => server.peakRssMB()));
    // Uploads each before measuring: the library's endpoint takes several to reach its pace
    // (measured here: 10 MB uploads from ~100 to ~250 MB/s over the first 8 or so, JIT on
    // both sides), which would otherwise fall on the 10 MB row alone.
    for (let i = 0; i < WARM_UP_UPLOADS; i++) {
      for (const server of servers) await uploadOnce(server, 10 * MB);
    }
    await Promise.all(servers.map((server) => deleteUploads(server.directory)));

    const rows: BenchRow[] = [];
    for (const size of sizes) {
      const rates: Record<UploadServerKind, number[]> = { bare: [], ours: [], multer: [] };
      for (let i = 0; i < repetitions; i++) {
        // Rotate who goes first, as sideBySide alternates, so drift in the machine's load and
        // the page cache's state fall on all three alike.
        for (let k = 0; k < KINDS.length; k++) {
          const kind = KINDS[(i + k) % KINDS.length]!;
          const ms = await uploadOnce(byKind(kind), size);
          rates[kind].push(size / MB / (ms / 1000));
        }
        // Up to 3 GB per repetition in the full run: delete before the next one.
        await Promise.all(servers.map((server) => deleteUploads(server.directory)));
      }
      const [bare, ours, multerRate] = KINDS.map((kind) => median(rates[kind])) as [
        number,
        number,
        number,
      ];
      const [rssBare, rssOurs, rssMulter] = await Promise.all(
        KINDS.map((kind) => byKind(kind).peakRssMB()),
      );
      rows.push({
        case: size >= 1024 * MB ? `${size / 1024 / MB} GB` : `${size / MB} MB`,
        metric: 'MB/s',
        baseline: bare,
        subject: ours,
        ratio: ours / bare,
        repetitions,
        extra: {
          'multer MB/s': multerRate,
          'multer ratio': multerRate / bare,
          'peak RSS MB (ours)': Math.round(rssOurs!),
          'peak RSS MB (bare)': Math.round(rssBare!),
          'peak RSS MB (multer)': Math.round(rssMulter!),
        },
      });
    }

    const [idleBare, idleOurs, idleMulter] = idle.map(Math.round);
    return {
      id: 'upload-throughput',
      title: 'Upload endpoint throughput and memory',
      subject:
        'POST /attachments/upload (busboy, size limit, SHA-256, type and dimension probe, ' +
        'filesystem cache storage) in a Nest app',
      baseline: 'a bare node:http server piping the request body to a file',
      better: 'higher',
      rows,
      notes: [
        'MB/s = file size / wall time of one upload, from the first byte the client sends to the ' +
          'end of the answer; the file is streamed as multipart with chunked encoding and never ' +
          'held whole by the client. The client runs in the bench process on the same cores as ' +
          'the server, and the three servers run one at a time, in rotating order.',
        "ratio = ours / bare: the share of the machine's practical rate the endpoint keeps. The " +
          'bare server writes the raw body to disk without parsing it; the endpoint also parses ' +
          'the multipart body (busboy), hashes every byte (SHA-256), counts the size against the ' +
          'limit, keeps the first 256 KB to detect the type and dimensions, writes a temporary ' +
          'file and renames it into place, signs a token, and goes through Nest. 1 - ratio is ' +
          'what all that costs; Multer pays for the parsing too, but not for the hash or probe.',
        'multer ratio = Multer (memory storage, then the buffer written to a file) / bare. Multer ' +
          'holds the whole file in memory, twice at the end (its chunks, then their ' +
          'concatenation), so its peak RSS grows with the file size while the two streaming ' +
          'servers should stay flat.',
        "Peak RSS is each server process's peak over its life (VmHWM), read after a size's " +
          'repetitions; sizes run from small to large, so each row shows the peak up to that ' +
          "size. It includes each server's own floor, its peak once started and before any " +
          `upload: ours ${idleOurs} MB, bare ${idleBare} MB, multer ${idleMulter} MB.`,
        `Each server first takes ${WARM_UP_UPLOADS} uploads of 10 MB that are not measured. ` +
          'Single uploads vary a lot on a small machine (up to 2x between repetitions here), ' +
          'so read the medians and ratios, not single figures.',
      ],
    };
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await rm(root, { recursive: true, force: true });
  }
}
