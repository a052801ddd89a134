import { fileURLToPath } from 'node:url';
import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';

// The page's files are plain HTML and browser JS, served from the source tree (tsc only
// compiles TypeScript): build/sample/app/ is three levels below the repository root.
const pageDirectory = fileURLToPath(new URL('../../../sample/app/page/', import.meta.url));

/** The one page of the sample, and its script. */
@Controller()
export class PageController {
  @Get()
  page(@Res() response: Response): void {
    // Only the app's own script runs: the page has no inline script and builds no markup
    // from data, so even a title that slipped through as HTML could not execute.
    response.setHeader(
      'Content-Security-Policy',
      "default-src 'self'; style-src 'self' 'unsafe-inline'",
    );
    this.send(response, 'index.html');
  }

  @Get('page.js')
  script(@Res() response: Response): void {
    this.send(response, 'page.js');
  }

  private send(response: Response, file: string): void {
    response.sendFile(file, { root: pageDirectory, headers: { 'Cache-Control': 'no-cache' } });
  }
}
