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
import { peakRss, resetPeakRss } from '../upload/process-memory.js';
import type { UploadServerKind } from '../upload/server-process.js';
import {
  deleteUploads,
  startUploadServer,
  uploadOnce,
  type UploadServer,
} from '../upload/servers.js';

const KINDS: UploadServerKind[] = ['bare', 'ours', 'multer'];
const WARM_UP_UPLOADS = 5;
/** The file of the memory row. Multer is left out there: it would hold all of it, twice. */
const LARGE = 1024 * MB;

interface LargeUploads {
  /** Median MB/s. */
  rate: number;
  /** Median of the peak RSS during the upload minus the RSS at rest just before it, in MB. */
  aboveRest: number;
  /** Median RSS at rest before an upload, in MB. */
  rest: number;
}

/**
 * Uploads LARGE to each server in turn (rotating who goes first), `repetitions` times. The
 * peak (VmHWM) is reset just before each upload and read after it. Each file is deleted once
 * measured, so the disk holds one at most.
 */
async function largeUploads<Name extends string>(
  servers: Record<Name, UploadServer>,
  repetitions: number,
): Promise<Record<Name, LargeUploads>> {
  const names = Object.keys(servers) as Name[];
  const samples = names.map(() => ({
    rate: [] as number[],
    above: [] as number[],
    rest: [] as number[],
  }));
  for (let i = 0; i < repetitions; i++) {
    for (let k = 0; k < names.length; k++) {
      const index = (i + k) % names.length;
      const server = servers[names[index]!];
      const sample = samples[index]!;
      const rest = await resetPeakRss(server.pid);
      const ms = await uploadOnce(server, LARGE);
      sample.above.push((await peakRss(server.pid)) - rest);
      sample.rest.push(rest);
      sample.rate.push(LARGE / MB / (ms / 1000));
      await deleteUploads(server.directory);
    }
  }
  const medians = samples.map((sample) => ({
    rate: median(sample.rate),
    aboveRest: median(sample.above),
    rest: median(sample.rest),
  }));
  return Object.fromEntries(names.map((name, index) => [name, medians[index]!])) as Record<
    Name,
    LargeUploads
  >;
}

export default async function uploadThroughput(options: BenchOptions): Promise<BenchScenario> {
  const sizes = [10 * MB, 100 * MB];
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
        // The practical limit: at 100 MB the fixed costs of a request no longer weigh.
        ...(size === 100 * MB && { goal: { at: 'least', ratio: 0.9 } as const }),
        extra: {
          'multer MB/s': multerRate,
          'multer ratio': multerRate / bare,
          'peak RSS MB (ours)': Math.round(rssOurs!),
          'peak RSS MB (bare)': Math.round(rssBare!),
          'peak RSS MB (multer)': Math.round(rssMulter!),
        },
      });
    }

    const largeRepetitions = options.quick ? 1 : 3;
    const { ours: oursLarge, bare: bareLarge } = await largeUploads(
      { ours: byKind('ours'), bare: byKind('bare') },
      largeRepetitions,
    );
    rows.push({
      case: '1 GB',
      metric: 'MB above rest during a 1 GB upload',
      baseline: bareLarge.aboveRest,
      subject: oursLarge.aboveRest,
      ratio: oursLarge.aboveRest / bareLarge.aboveRest,
      repetitions: largeRepetitions,
      goal: { at: 'most', ratio: 32, value: oursLarge.aboveRest, of: 'MB' },
      extra: {
        'MB/s (ours / bare)': `${oursLarge.rate.toFixed(0)} / ${bareLarge.rate.toFixed(0)}`,
        'RSS at rest MB (ours / bare)': `${oursLarge.rest.toFixed(0)} / ${bareLarge.rest.toFixed(0)}`,
      },
    });

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
        'The 100 MB row holds ours against the bare pipe with a goal of at least 0.9: the ' +
          'endpoint should keep nine tenths of what the machine can take in.',
        'The 1 GB row measures memory, not rate: for each streaming server, its peak RSS during ' +
          'one 1 GB upload minus its RSS at rest just before it (the peak, VmHWM, is reset by ' +
          'writing 5 to /proc/<pid>/clear_refs before the upload and read after it). A floor of ' +
          'no growth at all cannot be divided by, so the ratio is ours / bare of these growths, ' +
          'and the goal (at most 32 MB) is on our own growth. Multer is not run at 1 GB: it ' +
          'buffers the whole file (twice at the end), which is what the rows above already show ' +
          'growing with the size. Each 1 GB file is deleted once measured.',
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
