import type { Provider, Type } from '@nestjs/common';
import type { AttachmentsControllerOptions } from '../config/index.js';
import { AppUploadService } from './app-upload.service.js';
import { createClientScriptController } from './client-script.controller.js';
import { createDerivativesController } from './derivatives.controller.js';
import { DirectUploadService } from './direct-upload.service.js';
import { FastifyRoutes } from './fastify-routes.js';
import { createDirectUploadsController } from './direct-uploads.controller.js';
import { createFilesController } from './files.controller.js';
import { createUploadController } from './upload.controller.js';
import { createTusController } from './tus.controller.js';
import { TusUploads } from './tus-uploads.service.js';
import { UploadRules } from './upload-rules.js';

export const HTTP_PROVIDERS: Provider[] = [
  AppUploadService,
  DirectUploadService,
  UploadRules,
  FastifyRoutes,
  TusUploads,
];

/** One controller per concern, under the prefix and guards the app chose. */
export function controllersFor(options: AttachmentsControllerOptions): Type[] {
  return [
    createUploadController(options),
    createFilesController(options),
    createDerivativesController(options),
    createClientScriptController(options),
    createDirectUploadsController(options),
    createTusController(options),
  ];
}
