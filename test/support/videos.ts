import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestVideo {
  /** `mp4` (H.264, its index at the end, as ffmpeg writes it by default) or `webm` (VP9). */
  container: 'mp4' | 'webm';
  width: number;
  height: number;
  /** Seconds; 10 frames a second. */
  seconds?: number;
  /** Display rotation recorded in the file (mp4 only): players turn the frames by it. */
  rotate?: 90 | 180 | 270;
  /** mp4 only: the index before the frames, as for streaming (`-movflags +faststart`). */
  faststart?: boolean;
}

/**
 * A real video made by ffmpeg from its test pattern (colour bars and a running counter), in
 * `folder`, and its bytes.
 */
export async function makeVideo(folder: string, video: TestVideo): Promise<Buffer> {
  const { container, width, height, seconds = 2, rotate, faststart = false } = video;
  const name = `${container}-${width}x${height}-${seconds}${faststart ? '-faststart' : ''}`;
  const file = join(folder, `${name}.${container}`);
  const source = ['-f', 'lavfi', '-i', `testsrc=size=${width}x${height}:rate=10`];
  const codec = container === 'mp4' ? ['-pix_fmt', 'yuv420p'] : ['-deadline', 'realtime'];
  if (faststart) codec.push('-movflags', '+faststart');
  await run('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...source],
    ...['-t', `${seconds}`, '-threads', '1', ...codec, file],
  ]);
  if (!rotate) return readFile(file);
  // ffmpeg 5 records a rotation only when it copies the stream, not when it encodes it.
  const turned = file.replace(/(\.\w+)$/, `-turned$1`);
  await run('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-i', file],
    ...['-c', 'copy', '-metadata:s:v', `rotate=${rotate}`, turned],
  ]);
  return readFile(turned);
}
