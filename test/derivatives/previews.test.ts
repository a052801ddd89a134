import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import sharp from 'sharp';
import {
  AttachmentConfigurationError,
  ImageTooLargeError,
  attachmentErrorStatus,
} from '../../src/index.js';
import type { DerivativeFunction } from '../../src/derivatives/derivative-processor.interface.js';
import {
  PreviewFailedError,
  PreviewInputTooLargeError,
  PreviewTimeoutError,
  PreviewToolMissingError,
  pdfPreview,
  videoPoster,
} from '../../src/derivatives/preview.js';
import { corruptPdf, pdfDocument } from '../support/pdf.js';
import { makeVideo } from '../support/videos.js';
import { inputOf } from './images.js';

/** Where the helpers make their private folders in these tests: empty after every test. */
let scratch: string;
/** The test's own files: videos, scripts. */
let fixtures: string;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'previews-scratch-'));
  fixtures = await mkdtemp(join(tmpdir(), 'previews-fixtures-'));
});
afterEach(async () => {
  assert.deepEqual(await readdir(scratch), [], 'no temporary folder or file is left');
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
  await rm(fixtures, { recursive: true, force: true });
});

async function render(derive: DerivativeFunction, bytes: Buffer) {
  const output = await derive(await inputOf(bytes));
  assert.ok(Buffer.isBuffer(output.body), 'previews are Buffers, as the image helpers give');
  const body = output.body;
  return { output, body, meta: await sharp(body).metadata() };
}

type Rendered = Awaited<ReturnType<typeof render>>;

/** A preview read back: size and format by sharp, type by its first bytes, and as declared. */
function described({ output, body, meta }: Rendered) {
  const { width, height, format } = meta;
  const { contentType, extension } = output;
  return { width, height, format, bytes: signature(body), contentType, extension };
}

function signature(body: Buffer): string {
  if (body[0] === 0xff && body[1] === 0xd8) return 'jpeg';
  if (body.subarray(0, 8).equals(Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'))) return 'png';
  const riff = body.toString('latin1', 0, 4) === 'RIFF';
  return riff && body.toString('latin1', 8, 12) === 'WEBP' ? 'webp' : 'unknown';
}

const JPEG = { format: 'jpeg', bytes: 'jpeg', contentType: 'image/jpeg', extension: 'jpg' };
const PNG = { format: 'png', bytes: 'png', contentType: 'image/png', extension: 'png' };
const WEBP = { format: 'webp', bytes: 'webp', contentType: 'image/webp', extension: 'webp' };

/** The RGB of one pixel. */
async function pixel(image: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return [...data.subarray(at, at + 3)];
}

const near = (actual: number[], expected: number[]) =>
  actual.every((value, index) => Math.abs(value - expected[index]!) < 40);

/**
 * A program that never ends: it writes its pid where the test reads it, then sleeps. As a
 * `wrapper`, it sleeps in a child of its own (and writes that pid too) instead of becoming it.
 * The tests' timeouts (1 s) leave a loaded machine time to start it and write the pids.
 */
async function neverEnding(
  name: string,
  { wrapper = false } = {},
): Promise<{ command: string; pids: () => Promise<number[]> }> {
  const command = join(fixtures, name);
  const pidFile = join(fixtures, `${name}.pid`);
  const sleep = wrapper ? `sleep 600 &\necho $! >> '${pidFile}'\nwait\n` : 'exec sleep 600\n';
  await writeFile(command, `#!/bin/sh\necho $$ > '${pidFile}'\n${sleep}`);
  await chmod(command, 0o755);
  return {
    command,
    pids: async () => (await readFile(pidFile, 'utf8')).trim().split('\n').map(Number),
  };
}

/** Whether a process exists and has not ended (a zombie waiting for its parent has ended). */
async function isRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch((error: unknown) => {
    assert.equal((error as NodeJS.ErrnoException).code, 'ENOENT');
    return undefined;
  });
  // "pid (name) state ...": the name may hold spaces and parentheses, the state follows the last.
  return stat !== undefined && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

describe('pdfPreview', () => {
  const document = pdfDocument([
    { width: 400, height: 300 },
    { width: 200, height: 600, rotate: 90, color: [1, 0, 0] },
  ]);

  it('draws the first page at the width asked for, as a JPEG by default', async () => {
    const derive = pdfPreview({ width: 400, tempDirectory: scratch });
    const preview = await render(derive, document);
    const { body, meta } = preview;
    assert.deepEqual(described(preview), { width: 400, height: 300, ...JPEG });
    assert.ok(near(await pixel(body, 200, 250), [0, 0, 255]), 'the lower half is the blue box');
    assert.ok(near(await pixel(body, 390, 10), [255, 255, 255]), 'the top is the white page');
    assert.deepEqual([meta.exif, meta.icc], [undefined, undefined]);
  });

  it('draws another page, turned as its /Rotate says, in PNG', async () => {
    const derive = pdfPreview({ page: 2, width: 300, format: 'png', tempDirectory: scratch });
    const preview = await render(derive, document);
    // 200 x 600 points turned a quarter: shown 600 x 200, the box's lower half now on the left.
    assert.deepEqual(described(preview), { width: 300, height: 100, ...PNG });
    const { body } = preview;
    assert.ok(near(await pixel(body, 20, 50), [255, 0, 0]), 'the left is the red box');
  });

  it('shows the last page of a document shorter than `page`', async () => {
    const derive = pdfPreview({ page: 7, height: 100, format: 'png', tempDirectory: scratch });
    const { body, meta } = await render(derive, document);
    assert.deepEqual([meta.width, meta.height], [300, 100]);
    assert.ok(near(await pixel(body, 20, 50), [255, 0, 0]), 'page 2, red');
  });

  it('fills a box with fit cover (WebP) and pads it with fit contain', async () => {
    const cover = pdfPreview({ width: 200, height: 200, fit: 'cover', format: 'webp' });
    const covered = await render(cover, document);
    assert.deepEqual(described(covered), { width: 200, height: 200, ...WEBP });

    const contain = pdfPreview({ width: 200, height: 200, fit: 'contain', format: 'png' });
    const contained = await render(contain, document);
    assert.deepEqual([contained.meta.width, contained.meta.height], [200, 200]);
    const { data } = await sharp(contained.body)
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    assert.equal(data[3], 0, 'the bar above the page is transparent');
  });

  it('fails on a corrupt PDF with what the tool said, and leaves nothing behind', async () => {
    const derive = pdfPreview({ width: 200, tempDirectory: scratch });
    await assert.rejects(render(derive, corruptPdf()), (error: unknown) => {
      assert.ok(error instanceof PreviewFailedError, String(error));
      assert.equal(error.code, 'preview_failed');
      assert.match(error.message, /^Preview could not be made: pdfinfo exited with code \d+: /);
      assert.match(error.message, /trailer|xref/i);
      assert.doesNotMatch(error.message, new RegExp(scratch), 'no server path in the message');
      return true;
    });
  });

  it('fails on a PDF that needs a password, and draws one with only an owner password', async () => {
    const derive = pdfPreview({ width: 200, tempDirectory: scratch });
    const locked = pdfDocument(undefined, { userPassword: 'secret', ownerPassword: 'boss' });
    await assert.rejects(render(derive, locked), (error: unknown) => {
      assert.ok(error instanceof PreviewFailedError, String(error));
      assert.match(
        error.message,
        /pdfinfo exited with code 1: Command Line Error: Incorrect password/,
      );
      return true;
    });
    const restricted = pdfDocument(undefined, { userPassword: '', ownerPassword: 'boss' });
    const { body, meta } = await render(derive, restricted);
    assert.deepEqual([meta.width, meta.height], [200, 150]);
    assert.ok(near(await pixel(body, 100, 120), [0, 0, 255]), 'decrypted and drawn');
  });

  it('reads only files judged PDF from their bytes', async () => {
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    await assert.rejects(
      render(pdfPreview({ width: 200, tempDirectory: scratch }), png),
      (error: unknown) =>
        error instanceof PreviewFailedError &&
        /reads PDF files; this file is image\/png/.test(error.message),
    );
  });

  it('kills a tool that runs past the timeout, and removes its folder', async () => {
    const stuck = await neverEnding('stuck-pdftoppm');
    const derive = pdfPreview({
      width: 200,
      command: stuck.command,
      timeout: 1000,
      tempDirectory: scratch,
    });
    await assert.rejects(render(derive, document), (error: unknown) => {
      assert.ok(error instanceof PreviewTimeoutError, String(error));
      assert.equal(error.code, 'preview_timeout');
      assert.match(
        error.message,
        /pdftoppm did not finish within the preview's timeout of 1000 ms/,
      );
      return true;
    });
    for (const pid of await stuck.pids()) assert.equal(await isRunning(pid), false, `${pid} ended`);
  });

  it('kills what a wrapper of the tool started, with the wrapper', async () => {
    const wrapper = await neverEnding('wrapped-pdftoppm', { wrapper: true });
    const derive = pdfPreview({
      width: 200,
      command: wrapper.command,
      timeout: 1000,
      tempDirectory: scratch,
    });
    await assert.rejects(render(derive, document), PreviewTimeoutError);
    const pids = await wrapper.pids();
    assert.equal(pids.length, 2, 'the wrapper and its child');
    for (const pid of pids) assert.equal(await isRunning(pid), false, `${pid} ended`);
  });

  it('bounds what it keeps of a tool that prints without end', async () => {
    const chatty = join(fixtures, 'chatty-pdfinfo');
    await writeFile(chatty, '#!/bin/sh\nexec yes\n');
    const noisy = join(fixtures, 'noisy-pdfinfo');
    await writeFile(noisy, `#!/bin/sh\nhead -c 5000000 /dev/zero | tr '\\0' x >&2\nexit 3\n`);
    await Promise.all([chmod(chatty, 0o755), chmod(noisy, 0o755)]);
    const options = { width: 200, tempDirectory: scratch };
    await assert.rejects(
      render(pdfPreview({ ...options, probeCommand: chatty }), document),
      /pdfinfo printed more than 1048576 bytes/,
    );
    await assert.rejects(
      render(pdfPreview({ ...options, probeCommand: noisy }), document),
      (error: unknown) => {
        assert.ok(error instanceof PreviewFailedError, String(error));
        assert.match(error.message, /pdfinfo exited with code 3: x{600}…$/);
        return true;
      },
    );
  });

  it('says how to install a tool that is missing', async () => {
    const derive = pdfPreview({
      width: 200,
      command: '/nonexistent/pdftoppm',
      tempDirectory: scratch,
    });
    await assert.rejects(render(derive, document), (error: unknown) => {
      assert.ok(error instanceof PreviewToolMissingError, String(error));
      assert.equal(error.code, 'preview_tool_missing');
      assert.equal(
        error.message,
        'pdftoppm is not installed at /nonexistent/pdftoppm (Debian: apt-get install poppler-utils)',
      );
      return true;
    });
    const noInfo = pdfPreview({
      width: 200,
      probeCommand: 'pdfinfo-absent',
      tempDirectory: scratch,
    });
    await assert.rejects(render(noInfo, document), /pdfinfo is not installed at pdfinfo-absent/);
  });

  it('refuses an original over maxInputSize, from its metadata or while copying it', async () => {
    const derive = pdfPreview({ width: 200, maxInputSize: 100, tempDirectory: scratch });
    await assert.rejects(render(derive, document), (error: unknown) => {
      assert.ok(error instanceof PreviewInputTooLargeError, String(error));
      assert.equal(error.code, 'preview_input_too_large');
      assert.equal(error.size, document.length);
      return true;
    });
    // Metadata that understates the size (a file replaced in storage) is caught by the copy.
    const input = await inputOf(document);
    input.metadata.size = 10;
    await assert.rejects(derive(input), PreviewInputTooLargeError);
  });

  it('refuses to draw more pixels than maxPixels', async () => {
    const derive = pdfPreview({ width: 4000, maxPixels: 1_000_000, tempDirectory: scratch });
    await assert.rejects(render(derive, document), (error: unknown) => {
      assert.ok(error instanceof ImageTooLargeError, String(error));
      assert.deepEqual(error.dimensions, { width: 4000, height: 3000 });
      return true;
    });
  });

  it('checks its options when it is declared', () => {
    const bad = [
      () => pdfPreview({}),
      () => pdfPreview({ width: 0 }),
      () => pdfPreview({ width: 100, page: 0 }),
      () => pdfPreview({ width: 100, timeout: -1 }),
      () => pdfPreview({ width: 100, maxInputSize: 1.5 }),
      () => pdfPreview({ width: 100, command: '' }),
      () => pdfPreview({ width: 100, format: 'gif' as 'png' }),
    ];
    for (const make of bad) assert.throws(make, AttachmentConfigurationError);
    assert.throws(() => pdfPreview({}), /pdfPreview: give a width, a height or both/);
    assert.throws(
      () => pdfPreview({ width: 100, maxPixels: 0 }),
      /pdfPreview: maxPixels must be a positive integer/,
    );
  });
});

describe('videoPoster', () => {
  let mp4: Buffer;
  let webm: Buffer;
  before(async () => {
    mp4 = await makeVideo(fixtures, { container: 'mp4', width: 320, height: 240 });
    webm = await makeVideo(fixtures, { container: 'webm', width: 320, height: 240 });
  });

  it('takes a frame of an MP4 and of a WebM at the size asked for', async () => {
    const fromMp4 = await render(videoPoster({ width: 160, tempDirectory: scratch }), mp4);
    assert.deepEqual(described(fromMp4), { width: 160, height: 120, ...JPEG });

    const square = videoPoster({ width: 100, height: 100, fit: 'cover', format: 'png' });
    const fromWebm = await render(square, webm);
    assert.deepEqual(described(fromWebm), { width: 100, height: 100, ...PNG });
  });

  it('takes the frame at `at`, clamped to the end of the video', async () => {
    const frameAt = async (at: number) =>
      (await render(videoPoster({ width: 160, format: 'png', at, tempDirectory: scratch }), mp4))
        .body;
    const [early, late, past] = await Promise.all([frameAt(0.1), frameAt(1.5), frameAt(60)]);
    // The test pattern's counter runs: frames from different moments differ.
    assert.notDeepEqual(await sharp(early).raw().toBuffer(), await sharp(late).raw().toBuffer());
    assert.equal((await sharp(past).metadata()).width, 160, 'a frame near the end, not an error');
  });

  it('turns the frame as the video says, and does not enlarge it by default', async () => {
    const turned = await makeVideo(fixtures, {
      container: 'mp4',
      width: 320,
      height: 240,
      rotate: 90,
    });
    const { meta } = await render(videoPoster({ height: 160, tempDirectory: scratch }), turned);
    assert.deepEqual([meta.width, meta.height], [120, 160]);
    const kept = await render(videoPoster({ width: 1000, tempDirectory: scratch }), mp4);
    assert.deepEqual([kept.meta.width, kept.meta.height], [320, 240]);
    const enlarged = videoPoster({ width: 640, withoutEnlargement: false, tempDirectory: scratch });
    const big = await render(enlarged, mp4);
    assert.deepEqual([big.meta.width, big.meta.height], [640, 480]);
  });

  it('fails on a truncated video with what the tool said, and leaves nothing behind', async () => {
    const truncated = mp4.subarray(0, Math.floor(mp4.length / 2));
    await assert.rejects(
      render(videoPoster({ width: 160, tempDirectory: scratch }), truncated),
      (error: unknown) => {
        assert.ok(error instanceof PreviewFailedError, String(error));
        assert.match(error.message, /^Preview could not be made: ffprobe exited with code 1: /);
        assert.match(error.message, /moov atom not found/);
        return true;
      },
    );
  });

  it('fails on a video cut short after its index, when the frame is missing', async () => {
    const streamable = await makeVideo(fixtures, {
      container: 'mp4',
      width: 320,
      height: 240,
      faststart: true,
    });
    const cut = streamable.subarray(0, Math.floor(streamable.length * 0.4));
    const derive = videoPoster({ width: 160, at: 1.5, tempDirectory: scratch });
    await assert.rejects(render(derive, cut), /ffmpeg exited with code 1: .*partial file/);
  });

  it('fails when ffmpeg ends well but writes no frame', async () => {
    const silent = join(fixtures, 'silent-ffmpeg');
    await writeFile(silent, '#!/bin/sh\nexit 0\n');
    await chmod(silent, 0o755);
    const derive = videoPoster({ width: 160, command: silent, tempDirectory: scratch });
    await assert.rejects(render(derive, mp4), (error: unknown) => {
      assert.ok(error instanceof PreviewFailedError, String(error));
      assert.equal(error.message, 'Preview could not be made: ffmpeg found no frame at 0.200 s');
      return true;
    });
  });

  it('reads only files judged a video from their bytes', async () => {
    await assert.rejects(
      render(videoPoster({ width: 160, tempDirectory: scratch }), pdfDocument()),
      /videoPoster does not read application\/pdf files/,
    );
  });

  it('kills ffmpeg past the timeout, says when ffmpeg is missing, and bounds the input', async () => {
    const stuck = await neverEnding('stuck-ffmpeg');
    const slow = videoPoster({
      width: 160,
      command: stuck.command,
      timeout: 1000,
      tempDirectory: scratch,
    });
    await assert.rejects(
      render(slow, mp4),
      /ffmpeg did not finish within the preview's timeout of 1000 ms/,
    );
    for (const pid of await stuck.pids()) assert.equal(await isRunning(pid), false, `${pid} ended`);

    const missing = videoPoster({
      width: 160,
      command: '/nonexistent/ffmpeg',
      tempDirectory: scratch,
    });
    await assert.rejects(render(missing, mp4), (error: unknown) => {
      assert.ok(error instanceof PreviewToolMissingError, String(error));
      assert.equal(
        error.message,
        'ffmpeg is not installed at /nonexistent/ffmpeg (Debian: apt-get install ffmpeg)',
      );
      return true;
    });

    const bounded = videoPoster({ width: 160, maxInputSize: 1000, tempDirectory: scratch });
    await assert.rejects(render(bounded, mp4), PreviewInputTooLargeError);
    const input = await inputOf(mp4);
    input.metadata.size = 10;
    await assert.rejects(bounded(input), PreviewInputTooLargeError);
  });

  it('refuses a frame larger than maxPixels before decoding it', async () => {
    const derive = videoPoster({ width: 160, maxPixels: 320 * 240 - 1, tempDirectory: scratch });
    await assert.rejects(render(derive, mp4), (error: unknown) => {
      assert.ok(error instanceof ImageTooLargeError, String(error));
      assert.deepEqual(error.dimensions, { width: 320, height: 240 });
      return true;
    });
  });

  it('checks its options when it is declared', () => {
    assert.throws(() => videoPoster({ width: 100, at: -1 }), /videoPoster: at must be seconds/);
    assert.throws(
      () => videoPoster({ height: 100, fit: 'fill' as 'cover' }),
      AttachmentConfigurationError,
    );
    assert.throws(() => videoPoster({ height: 100, quality: 101 }), AttachmentConfigurationError);
  });
});

describe('where the tools run', () => {
  it('in a private folder under os.tmpdir(), removed afterwards, without the secrets of the app', async () => {
    // A pdfinfo that notes where it runs, the folder's mode and its environment, then runs.
    const noted = join(fixtures, 'where');
    const spy = join(fixtures, 'pdfinfo-spy');
    const script = `pwd > '${noted}'\nstat -c %a . >> '${noted}'\nenv >> '${noted}'\n`;
    await writeFile(spy, `#!/bin/sh\n${script}exec pdfinfo "$@"\n`);
    await chmod(spy, 0o755);
    process.env.PREVIEW_TEST_DATABASE_URL = 'postgres://user:password@db/app';
    try {
      const output = await pdfPreview({ width: 100, probeCommand: spy })(
        await inputOf(pdfDocument()),
      );
      assert.ok(Buffer.isBuffer(output.body));
    } finally {
      delete process.env.PREVIEW_TEST_DATABASE_URL;
    }
    const [folder, mode, ...environment] = (await readFile(noted, 'utf8')).trim().split('\n');
    assert.equal(dirname(folder!), await realpath(tmpdir()));
    assert.match(basename(folder!), /^nestjs-attachments-preview-/);
    assert.equal(mode, '700');
    await assert.rejects(stat(folder!), { code: 'ENOENT' });
    const names = environment.map((line) => line.split('=')[0]);
    assert.ok(names.includes('PATH') && environment.includes('LC_ALL=C'), environment.join());
    assert.ok(!names.includes('PREVIEW_TEST_DATABASE_URL'), 'the app env is not passed on');
  });
});

describe('preview errors over HTTP', () => {
  it('answer 422 for the file, 503 for a timeout, 500 for a missing tool', () => {
    const statuses = [
      new PreviewFailedError('corrupt'),
      new PreviewInputTooLargeError(10, 20),
      new PreviewTimeoutError('ffmpeg', 500),
      new PreviewToolMissingError('ffmpeg', 'ffmpeg', 'Debian: apt-get install ffmpeg'),
    ].map((error) => [error.code, attachmentErrorStatus(error)]);
    assert.deepEqual(statuses, [
      ['preview_failed', 422],
      ['preview_input_too_large', 422],
      ['preview_timeout', 503],
      ['preview_tool_missing', 500],
    ]);
  });
});
