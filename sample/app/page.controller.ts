import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Controller, Get, Header, Inject, NotFoundException, Param, Res } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';

// The page's files are plain HTML and browser JS, served from the source tree (tsc only
// compiles TypeScript): build/sample/app/ is three levels below the repository root.
const pageDirectory = fileURLToPath(new URL('../../../sample/app/page/', import.meta.url));

export const PAGE_SETTINGS = Symbol('PAGE_SETTINGS');

/** The page's other files, by name: nothing else of the folder is served. */
const ASSETS: Readonly<Record<string, string>> = {
  'page.css': 'text/css; charset=utf-8',
  'dom.js': 'text/javascript; charset=utf-8',
  'uploads.js': 'text/javascript; charset=utf-8',
  'photo-card.js': 'text/javascript; charset=utf-8',
  'photos.js': 'text/javascript; charset=utf-8',
  'albums.js': 'text/javascript; charset=utf-8',
  'icon.svg': 'image/svg+xml',
};

export interface PageSettings {
  /**
   * Where the page sends a chosen file: the library's upload endpoint (`app`), or the bucket
   * itself with a presigned request (`s3`).
   */
  directUpload: 'app' | 's3';
  /** Origins of the bucket, which the page uploads to and loads images from. */
  storageOrigins: string[];
}

/** The one page of the sample, and its scripts and style sheet. */
@Controller()
export class PageController {
  private readonly policy: string;

  constructor(
    @Inject(PAGE_SETTINGS) private readonly settings: PageSettings,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    // Only the app's own script runs: the page has no inline script and builds no markup
    // from data, so even a title that slipped through as HTML could not execute. In S3 mode it
    // also talks to the bucket, and nothing else.
    const origins = settings.storageOrigins.map((origin) => ` ${origin}`).join('');
    this.policy =
      "default-src 'self'; style-src 'self' 'unsafe-inline'" +
      (origins ? `; connect-src 'self'${origins}; img-src 'self'${origins}` : '');
  }

  // Read on every request: an edited page shows without a restart. Headers go through Nest's
  // adapter, so the page serves the same on Express and on Fastify.
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  async page(@Res({ passthrough: true }) response: unknown): Promise<string> {
    this.adapterHost.httpAdapter.setHeader(response, 'Content-Security-Policy', this.policy);
    return render(await readFile(`${pageDirectory}index.html`, 'utf8'), this.settings);
  }

  @Get('page.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  script(): Promise<string> {
    return readFile(`${pageDirectory}page.js`, 'utf8');
  }

  @Get('page/:name')
  @Header('Cache-Control', 'no-cache')
  async asset(
    @Param('name') name: string,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<string> {
    const type = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!type) throw new NotFoundException(`No page file named ${JSON.stringify(name)}`);
    this.adapterHost.httpAdapter.setHeader(response, 'Content-Type', type);
    return readFile(`${pageDirectory}${name}`, 'utf8');
  }
}

/** The page with its file input set to the upload mode: `data-direct-upload="s3"` for S3. */
function render(html: string, settings: PageSettings): string {
  const marker = /(<input\b[^>]*\sdata-direct-upload)(?=[\s/>])/g;
  const found = html.match(marker)?.length ?? 0;
  if (found !== 1) {
    throw new Error(`index.html must have one input with data-direct-upload, found ${found}`);
  }
  return settings.directUpload === 's3' ? html.replace(marker, '$1="s3"') : html;
}
