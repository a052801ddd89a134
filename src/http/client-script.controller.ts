import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Get, Res, type Type } from '@nestjs/common';
import type { AttachmentsControllerOptions } from '../config/index.js';
import { FileNotFoundError } from '../core/index.js';
import { AttachmentsRoutes } from './attachments-routes.js';
import { directResponse } from './node-http.js';
import { streamToClient } from './stream-to-client.js';

/**
 * The browser client, so a page can `import` it from the same origin as the upload routes. It is
 * the package's own file, not a stored one, so it needs none of the files endpoint's rules.
 */
export function createClientScriptController(options: AttachmentsControllerOptions): Type {
  @AttachmentsRoutes(options)
  class ClientScriptController {
    @Get('client.js')
    async client(@Res() reply: unknown): Promise<void> {
      const script = await clientScriptPath();
      const response = directResponse(reply);
      response.setHeader('Content-Type', 'text/javascript; charset=utf-8');
      response.setHeader('Cache-Control', 'public, max-age=3600');
      await streamToClient(createReadStream(script), response);
    }
  }
  return ClientScriptController;
}

let clientScript: string | undefined;

/** `client/direct-upload.js` at the package root, found from dist/ or from a build of the repo. */
async function clientScriptPath(): Promise<string> {
  if (clientScript) return clientScript;
  for (const relative of ['../../client/', '../../../client/']) {
    const candidate = fileURLToPath(new URL(`${relative}direct-upload.js`, import.meta.url));
    if (
      await access(candidate).then(
        () => true,
        () => false,
      )
    )
      return (clientScript = candidate);
  }
  throw new FileNotFoundError('direct-upload.js');
}
