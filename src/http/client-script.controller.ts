import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Get, Res, type Type } from '@nestjs/common';
import type { AttachmentsControllerOptions } from '../config/index.js';
import { FileNotFoundError } from '../core/index.js';
import { AttachmentsRoutes } from './attachments-routes.js';
import { CLIENT_SCRIPT_ROUTES } from './openapi.js';
import { describedRoutes } from './openapi-swagger.js';
import { directResponse } from './node-http.js';
import { streamToClient } from './stream-to-client.js';

/**
 * The modules `client/direct-upload.js` imports by relative URL: served next to `client.js`, so
 * that `./direct-upload-requests.js` resolves to the same prefix from the package and from here.
 */
export const CLIENT_MODULES = [
  'direct-upload-requests.js',
  'direct-upload-multipart.js',
  'direct-upload-tus.js',
] as const;

/**
 * The browser client, so a page can `import` it from the same origin as the upload routes. It is
 * the package's own file, not a stored one, so it needs none of the files endpoint's rules.
 */
export function createClientScriptController(options: AttachmentsControllerOptions): Type {
  @AttachmentsRoutes(options)
  class ClientScriptController {
    @Get('client.js')
    client(@Res() reply: unknown): Promise<void> {
      return serveModule('direct-upload.js', reply);
    }

    @Get(CLIENT_MODULES[0])
    requests(@Res() reply: unknown): Promise<void> {
      return serveModule(CLIENT_MODULES[0], reply);
    }

    @Get(CLIENT_MODULES[1])
    multipart(@Res() reply: unknown): Promise<void> {
      return serveModule(CLIENT_MODULES[1], reply);
    }

    @Get(CLIENT_MODULES[2])
    tus(@Res() reply: unknown): Promise<void> {
      return serveModule(CLIENT_MODULES[2], reply);
    }
  }
  return describedRoutes(ClientScriptController, CLIENT_SCRIPT_ROUTES);
}

async function serveModule(name: string, reply: unknown): Promise<void> {
  const script = await clientScriptPath(name);
  const response = directResponse(reply);
  response.setHeader('Content-Type', 'text/javascript; charset=utf-8');
  response.setHeader('Cache-Control', 'public, max-age=3600');
  await streamToClient(createReadStream(script), response);
}

let clientFolder: string | undefined;

/** A file of `client/` at the package root, found from dist/ or from a build of the repo. */
async function clientScriptPath(name: string): Promise<string> {
  if (clientFolder) return clientFolder + name;
  for (const relative of ['../../client/', '../../../client/']) {
    const folder = fileURLToPath(new URL(relative, import.meta.url));
    if (
      await access(folder + 'direct-upload.js').then(
        () => true,
        () => false,
      )
    )
      return (clientFolder = folder) + name;
  }
  throw new FileNotFoundError(name);
}
