import type { IncomingMessage, ServerResponse } from 'node:http';
import { Get, Param, Query, Res, type Type } from '@nestjs/common';
import {
  claimedDerivativeGrant,
  DERIVATIVES_ROUTE,
  FileUrls,
  OnDemandDerivatives,
} from '../attaching/index.js';
import { AttachmentsConfig, type AttachmentsControllerOptions } from '../config/index.js';
import { type UploadedFile, verifyDerivativeUrl } from '../core/index.js';
import { AttachmentsRoutes } from './attachments-routes.js';
import { DERIVATIVES_ROUTES } from './openapi.js';
import { describedRoutes } from './openapi-swagger.js';
import { serveFile } from './file-responder.js';
import { NodeRequest, directResponse } from './node-http.js';

/** Seconds a cache may keep the answer of a URL that never expires: one year. */
const FOREVER = 365 * 24 * 3600;

/**
 * Answers the signed URLs of `onDemand` derivatives: the derivative, made on the first request
 * (see OnDemandDerivatives), streamed or redirected to as `derivatives.onDemand.response` says.
 * Refusals are never cached.
 */
export function createDerivativesController(options: AttachmentsControllerOptions): Type {
  @AttachmentsRoutes(options)
  class DerivativesController {
    constructor(
      private readonly config: AttachmentsConfig,
      private readonly derivatives: OnDemandDerivatives,
      private readonly urls: FileUrls,
    ) {}

    @Get(DERIVATIVES_ROUTE)
    async derivative(
      @NodeRequest() request: IncomingMessage,
      @Res() reply: unknown,
      @Param() params: Record<string, unknown>,
      @Query() query: Record<string, unknown>,
    ): Promise<void> {
      const response = directResponse(reply);
      response.setHeader('Cache-Control', 'no-store');
      const grant = claimedDerivativeGrant(params, query);
      const secondsLeft = verifyDerivativeUrl(grant, query.signature, this.config.secret);
      const file = await this.derivatives.derivative(grant);
      const visibility = this.config.signedStorages.has(grant.storage) ? 'private' : 'public';
      if (this.config.onDemand.response === 'redirect') {
        await this.redirect(response, file, secondsLeft ?? FOREVER, visibility);
        return;
      }
      await serveFile(request, response, this.config.storage(file.storage), file.id, {
        filename: file.metadata.filename ?? undefined,
        maxAge: secondsLeft ?? FOREVER,
        visibility,
        immutable: secondsLeft === null,
      });
    }

    /**
     * 302 to the derivative's own URL. That URL may be signed for `signedUrlTtl`, so the
     * redirect is kept no longer than that, nor than the URL it answers.
     */
    private async redirect(
      response: ServerResponse,
      file: UploadedFile,
      secondsLeft: number,
      visibility: 'public' | 'private',
    ): Promise<void> {
      const maxAge = Math.min(secondsLeft, this.config.signedUrlTtl);
      const location = await this.urls.url(file, { expiresIn: this.config.signedUrlTtl });
      response.statusCode = 302;
      response.setHeader('Location', location);
      response.setHeader('Cache-Control', `${visibility}, max-age=${maxAge}`);
      response.end();
    }
  }
  return describedRoutes(DerivativesController, DERIVATIVES_ROUTES);
}
