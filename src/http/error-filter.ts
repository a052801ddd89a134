import {
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  Optional,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { AttachmentsConfig, DEFAULT_DRAIN } from '../config/index.js';
import { DerivativeBusyError } from '../attaching/index.js';
import { AttachmentError } from '../core/index.js';
import { nodeRequest, nodeResponse } from './node-http.js';
import { drainRefusedBody } from './refused-body.js';

const STATUS_BY_CODE: Record<string, number> = {
  invalid_upload: HttpStatus.BAD_REQUEST,
  upload_timeout: HttpStatus.REQUEST_TIMEOUT,
  invalid_token: HttpStatus.BAD_REQUEST,
  expired_token: HttpStatus.BAD_REQUEST,
  invalid_file_id: HttpStatus.BAD_REQUEST,
  token_owner_mismatch: HttpStatus.FORBIDDEN,
  invalid_file_url: HttpStatus.FORBIDDEN,
  file_not_found: HttpStatus.NOT_FOUND,
  token_already_used: HttpStatus.CONFLICT,
  file_too_large: HttpStatus.PAYLOAD_TOO_LARGE,
  file_type_not_allowed: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  too_many_files: HttpStatus.UNPROCESSABLE_ENTITY,
  attachment_required: HttpStatus.BAD_REQUEST,
  empty_file: HttpStatus.UNPROCESSABLE_ENTITY,
  image_too_large: HttpStatus.UNPROCESSABLE_ENTITY,
  image_dimensions: HttpStatus.UNPROCESSABLE_ENTITY,
  malformed_image: HttpStatus.UNPROCESSABLE_ENTITY,
  image_processing_failed: HttpStatus.UNPROCESSABLE_ENTITY,
  derivative_not_found: HttpStatus.NOT_FOUND,
  derivative_busy: HttpStatus.SERVICE_UNAVAILABLE,
  // Previews made on demand: the file's fault, the server's load, or the server's setup.
  preview_failed: HttpStatus.UNPROCESSABLE_ENTITY,
  preview_input_too_large: HttpStatus.UNPROCESSABLE_ENTITY,
  preview_timeout: HttpStatus.SERVICE_UNAVAILABLE,
  preview_tool_missing: HttpStatus.INTERNAL_SERVER_ERROR,
};

/** The HTTP status that fits an attachment error: 4xx for what the client got wrong. */
export function attachmentErrorStatus(error: AttachmentError): number {
  return STATUS_BY_CODE[error.code] ?? HttpStatus.INTERNAL_SERVER_ERROR;
}

/** The codes of the library's errors answered with `status`, for the routes' descriptions. */
export function attachmentErrorCodes(status: number): string[] {
  return Object.keys(STATUS_BY_CODE).filter((code) => STATUS_BY_CODE[code] === status);
}

/**
 * Answers AttachmentErrors (and HttpExceptions) as JSON: `{statusCode, code, message}`.
 * Bind it to your own controllers that call `attach()`; every controller of the library uses it.
 * A request answered before its body was read to the end has the rest read and thrown away,
 * within `upload.drain` (its defaults where the module's options are out of reach).
 */
@Catch()
export class AttachmentErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Attachments');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    // Absent where the filter is bound to an app's controller outside the module's reach.
    @Optional() private readonly config?: AttachmentsConfig,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<unknown>();
    const { status, body } = describe(exception);
    if (status >= 500) this.logger.error(exception instanceof Error ? exception.stack : exception);
    // A file already streaming cannot turn into an error answer: the client sees it cut short.
    const response = nodeResponse(reply);
    if (response.headersSent) {
      response.destroy();
      return;
    }
    // A body refused before its end (a file cut off at its limit, a guard's refusal) is read on
    // for a bounded while, so that a client still sending reads this answer.
    drainRefusedBody(
      nodeRequest(http.getRequest<unknown>()),
      this.config?.uploadDrain ?? DEFAULT_DRAIN,
    );
    if (exception instanceof DerivativeBusyError) {
      response.setHeader('Retry-After', String(exception.retryAfter));
    }
    this.adapterHost.httpAdapter.reply(reply, body, status);
  }
}

function describe(exception: unknown): { status: number; body: Record<string, unknown> } {
  if (exception instanceof AttachmentError) {
    const status = attachmentErrorStatus(exception);
    const message = status >= 500 ? 'Internal server error' : exception.message;
    return { status, body: { statusCode: status, code: exception.code, message } };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const answer = exception.getResponse();
    const message = typeof answer === 'string' ? answer : (answer as { message?: unknown }).message;
    return { status, body: { statusCode: status, code: 'http_error', message } };
  }
  const status = HttpStatus.INTERNAL_SERVER_ERROR;
  return {
    status,
    body: { statusCode: status, code: 'internal', message: 'Internal server error' },
  };
}
