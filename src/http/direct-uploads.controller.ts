import type { IncomingMessage } from 'node:http';
import { Body, Delete, Get, HttpCode, Param, Post, Query, type Type } from '@nestjs/common';
import type { AttachmentsControllerOptions } from '../config/index.js';
import { AttachmentsRoutes } from './attachments-routes.js';
import { DIRECT_UPLOAD_ROUTES } from './openapi.js';
import { describedRoutes } from './openapi-swagger.js';
import { DirectUploadService, type UploadTarget } from './direct-upload.service.js';
import { NodeRequest } from './node-http.js';

/**
 * Routes for uploads straight to the cache storage, shaped like the ones Uppy Companion serves,
 * so Uppy's AwsS3 plugin works with its `companionEndpoint` set to the controller's prefix.
 */
export function createDirectUploadsController(options: AttachmentsControllerOptions): Type {
  @AttachmentsRoutes(options, 's3')
  class DirectUploadsController {
    constructor(private readonly uploads: DirectUploadService) {}

    /**
     * `?filename=&type=&entity=&attachment=[&method=PUT]` (or Uppy's `metadata[entity]`...):
     * one presigned request.
     */
    @Get('params')
    params(
      @NodeRequest() request: IncomingMessage,
      @Query() query: UploadTarget & { method?: string },
    ) {
      return this.uploads.presign(request, query, query.method === 'PUT' ? 'PUT' : 'POST');
    }

    @Post('multipart')
    @HttpCode(200)
    create(@NodeRequest() request: IncomingMessage, @Body() body: UploadTarget) {
      return this.uploads.createMultipart(request, body ?? {});
    }

    @Get('multipart/:uploadId/:partNumber')
    signPart(
      @Param('uploadId') uploadId: string,
      @Param('partNumber') partNumber: string,
      @Query('key') key: unknown,
    ) {
      return this.uploads.signPart(key, uploadId, partNumber);
    }

    @Get('multipart/:uploadId')
    listParts(@Param('uploadId') uploadId: string, @Query('key') key: unknown) {
      return this.uploads.listParts(key, uploadId);
    }

    @Post('multipart/:uploadId/complete')
    @HttpCode(200)
    complete(
      @NodeRequest() request: IncomingMessage,
      @Param('uploadId') uploadId: string,
      @Query('key') key: unknown,
      @Body() body: unknown,
    ) {
      return this.uploads.complete(request, key, uploadId, body);
    }

    @Delete('multipart/:uploadId')
    abort(@Param('uploadId') uploadId: string, @Query('key') key: unknown) {
      return this.uploads.abort(key, uploadId);
    }
  }
  return describedRoutes(DirectUploadsController, DIRECT_UPLOAD_ROUTES);
}
