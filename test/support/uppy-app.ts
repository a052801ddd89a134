import { createHash } from 'node:crypto';
import { after, before } from 'node:test';
import { Controller, Get, Header, Param, StreamableFile, type Type } from '@nestjs/common';
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { Entity, PrimaryGeneratedColumn, type Repository } from 'typeorm';
import { Attachment, type Storage, type UploadedFile } from '../../src/index.js';
import { S3Storage } from '../../src/s3/index.js';
import { launchBrowser } from './browser.js';
import { waitForIdle, type Harness } from './harness.js';
import type { HttpPlatform } from './platforms.js';
import { startS3rver, type TestS3Server } from './s3rver.js';
import { useHarness, type SuiteContext } from './suite.js';
import { addUploadClients } from './upload-clients.js';

const MiB = 1024 * 1024;

/** The limits the Uppy tests upload against: a small image and a large one. */
@Entity()
export class Shot {
  @PrimaryGeneratedColumn()
  id!: number;

  @Attachment({ allowedTypes: ['image/png', 'image/jpeg'], maxSize: MiB })
  image!: UploadedFile | null;

  /** Large enough for a multipart upload of three 5 MiB parts. */
  @Attachment({ allowedTypes: ['image/png'], maxSize: 16 * MiB })
  poster!: UploadedFile | null;
}

/** The uploader, as the app knows them: the `user` cookie. */
export function ownerFromCookie(request: { headers: { cookie?: string } }): string | undefined {
  return /(?:^|;\s*)user=([^;]+)/.exec(request.headers.cookie ?? '')?.[1];
}

/** Bytes the page fetches from the app, to hand to Uppy as a File. */
const fixtures = new Map<string, Buffer>();

/** The app's own routes: a page at its origin (Uppy calls the routes same-origin) and fixtures. */
@Controller()
export class UppyPageController {
  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  page(): string {
    return '<!doctype html><html><head><title>uploads</title></head><body></body></html>';
  }

  @Get('fixtures/:name')
  fixture(@Param('name') name: string): StreamableFile {
    const bytes = fixtures.get(name);
    if (!bytes) throw new Error(`no fixture ${name}`);
    return new StreamableFile(bytes, { type: 'application/octet-stream' });
  }
}

/** What the page saw of one Uppy upload. */
export interface UppyOutcome {
  ok: boolean;
  /** `response.body` of `upload-success` (AwsS3: `{location, key}`; XHRUpload: our JSON). */
  body?: Record<string, unknown>;
  uploadURL?: string;
  /** `upload-error`'s message. */
  error?: string;
  /** Every answer of the app's routes during this upload, in order (path and query, status). */
  answers: { path: string; status: number }[];
}

export interface UppyUpload {
  plugin: 'AwsS3' | 'XHRUpload';
  /** The plugin's options, as plain JSON. */
  options: Record<string, unknown>;
  /** Options that are functions, as source text (README shows the same). */
  functions?: Record<string, string>;
  /** Uppy's `meta` option: fields every file carries (which attachment it is for). */
  meta: Record<string, string>;
  name: string;
  type: string;
  bytes: Buffer;
}

export interface UppySuite {
  context: SuiteContext;
  s3: TestS3Server;
  storages: Record<string, Storage>;
  harness: Harness;
  shots: Repository<Shot>;
  /** Runs one upload with the real Uppy in the page, as `user` (the cookie). */
  upload(upload: UppyUpload, user?: string): Promise<UppyOutcome>;
  /** Attaches what Uppy gave the page, saves, waits for promotion; returns the stored file. */
  attachAndStore(
    property: 'image' | 'poster',
    source: string,
    owner?: string,
  ): Promise<UploadedFile>;
  /** The SHA-256 of a stored file's bytes. */
  sha256Of(file: UploadedFile): Promise<string>;
}

/**
 * A small app of the tests' own on `platform` (PostgreSQL, Redis, s3rver with CORS as the cache
 * and store storages, uploaders named by a cookie) and one Chromium page at its origin, with the
 * real Uppy 6 bundle. One browser per `describe`.
 */
export function useUppySuite(platform: HttpPlatform, browser: () => Browser): UppySuite {
  const storages: Record<string, Storage> = {};
  const suite = { storages } as UppySuite;
  let context: BrowserContext;
  let page: Page;
  before(async () => {
    suite.s3 = await startS3rver({ cors: true });
    const client = suite.s3.client();
    storages.cache = new S3Storage({ client, bucket: suite.s3.bucket, prefix: 'cache/' });
    storages.store = new S3Storage({ client, bucket: suite.s3.bucket, prefix: 'store/' });
  });
  suite.context = useHarness('postgres', [Shot], {
    http: true,
    platform,
    storages,
    controllers: [UppyPageController as Type],
    upload: { owner: ownerFromCookie },
  });
  before(async () => {
    suite.harness = suite.context.harness;
    suite.shots = suite.context.db.dataSource.getRepository(Shot);
    context = await browser().newContext();
    page = await context.newPage();
    await page.goto(`${suite.harness.baseUrl}/`);
    await addUploadClients(page);
  });
  after(async () => {
    await context?.close();
    await suite.s3?.stop();
  });

  suite.upload = async (upload, user = 'alice') => {
    await context.clearCookies();
    await context.addCookies([{ name: 'user', value: user, url: suite.harness.baseUrl }]);
    const name = `${fixtures.size}-${upload.name}`;
    fixtures.set(name, upload.bytes);
    const answers: UppyOutcome['answers'] = [];
    const watch = (response: Response) => {
      const url = response.url();
      if (url.startsWith(suite.harness.baseUrl) && !url.includes('/fixtures/')) {
        answers.push({ path: url.slice(suite.harness.baseUrl.length), status: response.status() });
      }
    };
    page.on('response', watch);
    try {
      const outcome = await page.evaluate(runUppy, { ...upload, bytes: undefined, fixture: name });
      return { ...outcome, answers };
    } finally {
      page.off('response', watch);
      fixtures.delete(name);
    }
  };

  suite.attachAndStore = async (property, source, owner = 'alice') => {
    const shot = suite.shots.create();
    await suite.harness.attachments.attach(shot, property, source, { owner });
    await suite.shots.save(shot);
    await waitForIdle(suite.harness, suite.context.db.dataSource);
    const saved = await suite.shots.findOneByOrFail({ id: shot.id });
    return saved[property]!;
  };

  suite.sha256Of = async (file) => {
    const hash = createHash('sha256');
    for await (const chunk of await storages[file.storage]!.open(file.id)) hash.update(chunk);
    return hash.digest('hex');
  };
  return suite;
}

/** One browser for a test file: launched before its suites, closed after. */
export function useBrowser(): () => Browser {
  let browser: Browser | undefined;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => browser?.close());
  return () => browser!;
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

// --- In the page. The tests compile without the DOM library: what it uses is declared here. --

interface InPageUppy {
  use(plugin: unknown, options: Record<string, unknown>): InPageUppy;
  on(event: string, listener: (...args: never[]) => void): InPageUppy;
  addFile(file: { name: string; type: string; data: unknown }): string;
  upload(): Promise<unknown>;
}

type InPageArgs = Omit<UppyUpload, 'bytes'> & { fixture: string };

/**
 * Runs in Chromium: the documented Uppy 6 setup (`new Uppy({meta})`, `.use(plugin, options)`),
 * a File of the fixture's bytes, and the outcome of `upload-success` or `upload-error`.
 */
async function runUppy(args: InPageArgs): Promise<Omit<UppyOutcome, 'answers'>> {
  const scope = globalThis as unknown as {
    UploadClients: Record<string, unknown> & { Uppy: new (options: object) => InPageUppy };
    fetch(url: string): Promise<{ blob(): Promise<unknown> }>;
    File: new (parts: unknown[], name: string, options: { type: string }) => unknown;
  };
  const { Uppy } = scope.UploadClients;
  const blob = await (await scope.fetch(`/fixtures/${args.fixture}`)).blob();
  const functions = Object.entries(args.functions ?? {}).map(
    // The test's own source text, compiled in the page as a <script> would.
    ([name, source]) => [name, new Function(`return (${source})`)()] as const,
  );
  const options = { ...args.options, ...Object.fromEntries(functions) };
  const uppy = new Uppy({ meta: args.meta }).use(scope.UploadClients[args.plugin], options);
  const outcome = new Promise<Omit<UppyOutcome, 'answers'>>((resolve) => {
    uppy.on('upload-success', (_file: never, response: { body: never; uploadURL: never }) =>
      resolve({ ok: true, body: response.body, uploadURL: response.uploadURL }),
    );
    uppy.on('upload-error', (_file: never, error: { message: string }) =>
      resolve({ ok: false, error: error.message }),
    );
  });
  uppy.addFile({
    name: args.name,
    type: args.type,
    data: new scope.File([blob], args.name, { type: args.type }),
  });
  void uppy.upload();
  return outcome;
}
