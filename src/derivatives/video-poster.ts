import { join } from 'node:path';
import { AttachmentConfigurationError, ImageTooLargeError } from '../core/index.js';
import type { DerivativeFunction } from './derivative-processor.interface.js';
import { runTool, type ExternalTool } from './external-tool.js';
import { previewPlan, scaleToBox, type PreviewOptions } from './preview-options.js';
import { encodeRendered, INPUT_FILE, withInputFile } from './preview-workspace.js';
import { PreviewFailedError } from './preview.errors.js';

export interface VideoPosterOptions extends PreviewOptions {
  /**
   * Seconds into the video. Default: a tenth of its duration (0 when the duration is unknown).
   * Clamped to just before its end, so a short video still gives its last frame.
   */
  at?: number;
  /** Leave a frame smaller than the box at its size (default true): enlarging only blurs. */
  withoutEnlargement?: boolean;
}

const FFMPEG = 'Debian: apt-get install ffmpeg';

/**
 * The ffmpeg demuxer for each video type that file-type judges from the bytes. ffmpeg is told
 * which one to use, and may open no file but its input: left to guess, it reads playlists
 * (HLS, concat) that name other files and URLs.
 */
const DEMUXERS: Readonly<Record<string, string>> = {
  'video/mp4': 'mov',
  'video/quicktime': 'mov',
  'video/x-m4v': 'mov',
  'video/3gpp': 'mov',
  'video/3gpp2': 'mov',
  'video/webm': 'matroska',
  'video/matroska': 'matroska',
  'video/ogg': 'ogg',
  'video/vnd.avi': 'avi',
  'video/mpeg': 'mpeg',
  'video/mp2t': 'mpegts',
  'video/x-flv': 'flv',
  'video/x-ms-asf': 'asf',
};

/** After the seek, ffmpeg reads at most this many seconds of the video looking for a frame. */
const READ_SECONDS = 5;

/**
 * One frame of a video, as a poster image: `ffprobe` reads the video's size and duration,
 * `ffmpeg` decodes the one frame at `at` on one thread, without audio, scaled to the box, and
 * sharp encodes it as resizeImage does. The frame is turned upright by the video's rotation and
 * shown with square pixels.
 */
export function videoPoster(options: VideoPosterOptions): DerivativeFunction {
  const plan = previewPlan(
    'videoPoster',
    { ...options, withoutEnlargement: options.withoutEnlargement ?? true },
    {
      timeout: 30_000,
      maxInputSize: 1024 * 1024 * 1024,
      command: 'ffmpeg',
      probeCommand: 'ffprobe',
    },
  );
  const { at } = options;
  if (at !== undefined && !(Number.isFinite(at) && at >= 0)) {
    throw new AttachmentConfigurationError(`videoPoster: at must be seconds, 0 or more; got ${at}`);
  }
  const enlarge = options.withoutEnlargement === false;
  const ffmpeg: ExternalTool = { name: 'ffmpeg', command: plan.command, install: FFMPEG };
  const ffprobe: ExternalTool = { name: 'ffprobe', command: plan.probeCommand, install: FFMPEG };
  return async (input) => {
    const { mimeType } = input.metadata;
    const demuxer = DEMUXERS[mimeType];
    if (!demuxer) {
      input.stream.destroy();
      throw new PreviewFailedError(`videoPoster does not read ${mimeType} files`);
    }
    return withInputFile(input, plan, async (folder) => {
      const run = { cwd: folder, timeout: plan.timeout };
      const video = readProbe(await runTool(ffprobe, probeArgs(demuxer), run));
      if (video.decoded.width * video.decoded.height > plan.maxPixels) {
        throw new ImageTooLargeError(plan.maxPixels, video.decoded);
      }
      const scale = Math.min(scaleToBox(video, plan.box), enlarge ? Infinity : 1);
      const size = {
        width: Math.max(1, Math.round(video.width * scale)),
        height: Math.max(1, Math.round(video.height * scale)),
      };
      if (size.width * size.height > plan.maxPixels) {
        throw new ImageTooLargeError(plan.maxPixels, size);
      }
      const seconds = posterTime(video, at);
      await runTool(ffmpeg, frameArgs(demuxer, seconds, size), run);
      const nothing = `ffmpeg found no frame at ${seconds.toFixed(3)} s`;
      return encodeRendered(join(folder, 'frame.png'), plan.finish, nothing);
    });
  };
}

/** A video as shown: width and height after rotation and with square pixels. */
interface ProbedVideo {
  width: number;
  height: number;
  /** The frame as stored, which ffmpeg decodes before it turns and scales it. */
  decoded: { width: number; height: number };
  /** Seconds, when the container says. */
  duration?: number;
  /** Frames per second, when known. */
  frameRate?: number;
}

function probeArgs(demuxer: string): string[] {
  const entries =
    'format=duration:stream=width,height,duration,sample_aspect_ratio,avg_frame_rate' +
    ':stream_side_data=rotation:stream_tags=rotate';
  return [
    ...['-v', 'error', '-protocol_whitelist', 'file', '-f', demuxer],
    ...['-select_streams', 'v:0', '-show_entries', entries, '-of', 'json', INPUT_FILE],
  ];
}

interface ProbeReport {
  streams?: {
    width?: number;
    height?: number;
    duration?: string;
    sample_aspect_ratio?: string;
    avg_frame_rate?: string;
    side_data_list?: { rotation?: number }[];
    tags?: { rotate?: string };
  }[];
  format?: { duration?: string };
}

function readProbe(report: Buffer): ProbedVideo {
  let parsed: ProbeReport;
  try {
    parsed = JSON.parse(report.toString('utf8')) as ProbeReport;
  } catch (error) {
    throw new PreviewFailedError('ffprobe gave no readable report', { cause: error });
  }
  const stream = parsed.streams?.[0];
  const { width = 0, height = 0 } = stream ?? {};
  if (
    !stream ||
    !(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)
  ) {
    throw new PreviewFailedError('the file holds no video stream with a size');
  }
  // Anamorphic video stores pixels wider or narrower than they are shown.
  const shownWidth = Math.max(1, Math.round(width * (ratio(stream.sample_aspect_ratio, ':') ?? 1)));
  const rotation = stream.side_data_list?.find((data) => data.rotation !== undefined)?.rotation;
  const turned = Math.abs(Number(rotation ?? stream.tags?.rotate ?? 0)) % 180 === 90;
  const duration = positive(Number(stream.duration ?? parsed.format?.duration));
  const frameRate = ratio(stream.avg_frame_rate, '/');
  const shown = turned ? { width: height, height: shownWidth } : { width: shownWidth, height };
  return { ...shown, decoded: { width, height }, duration, frameRate };
}

/** `a:b` or `a/b` as a number, when both are positive. */
function ratio(text: string | undefined, separator: string): number | undefined {
  const [a, b] = (text ?? '').split(separator).map(Number);
  return positive(a! / b!);
}

function positive(value: number): number | undefined {
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/** `at`, or a tenth in, kept two frames before the end (a seek past the last frame finds none). */
function posterTime(video: ProbedVideo, at: number | undefined): number {
  if (video.duration === undefined) return at ?? 0;
  const frame = video.frameRate ? 1 / video.frameRate : 0.1;
  const latest = Math.max(0, video.duration - 2 * frame);
  return Math.min(at ?? video.duration / 10, latest);
}

function frameArgs(demuxer: string, seconds: number, size: { width: number; height: number }) {
  return [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-filter_threads', '1'],
    ...['-threads', '1', '-protocol_whitelist', 'file', '-f', demuxer],
    ...['-ss', seconds.toFixed(3), '-t', `${READ_SECONDS}`, '-i', INPUT_FILE],
    ...['-map', '0:v:0', '-an', '-sn', '-dn', '-frames:v', '1', '-threads', '1'],
    ...['-vf', `scale=${size.width}:${size.height},setsar=1`, '-f', 'image2', '-c:v', 'png'],
    'frame.png',
  ];
}
