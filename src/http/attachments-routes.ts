import { applyDecorators, Controller, UseFilters, UseGuards } from '@nestjs/common';
import type { AttachmentsControllerOptions } from '../config/index.js';
import { AttachmentErrorFilter } from './error-filter.js';

/**
 * What every controller of the library shares: the app's prefix (with `subpath` under it), the
 * app's guards before every route, and the library's errors answered as JSON.
 */
export function AttachmentsRoutes(options: AttachmentsControllerOptions, subpath?: string) {
  const prefix = options.path ?? 'attachments';
  return applyDecorators(
    Controller(subpath ? `${prefix}/${subpath}` : prefix),
    UseGuards(...(options.guards ?? [])),
    UseFilters(AttachmentErrorFilter),
  );
}
