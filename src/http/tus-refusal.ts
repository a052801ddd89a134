import { AttachmentError } from '../core/index.js';
import { attachmentErrorStatus } from './error-filter.js';

/** What `@tus/server` answers for an error thrown by a hook: a status and a body. */
export interface TusRefusal {
  status_code: number;
  body: string;
}

/** The codes of the refusals that `@tus/server` makes itself, by status. */
const CODE_BY_STATUS: Record<number, string> = {
  404: 'file_not_found',
  410: 'file_not_found',
  413: 'file_too_large',
};

function refusalBody(statusCode: number, code: string, message: string): string {
  return JSON.stringify({ statusCode, code, message });
}

/** A library error as tus answers it, in the JSON every other route answers; else the error. */
export function asTusRefusal(error: unknown): unknown {
  if (!(error instanceof AttachmentError)) return error;
  const status = attachmentErrorStatus(error);
  const message = status >= 500 ? 'Internal server error' : error.message;
  return { status_code: status, body: refusalBody(status, error.code, message) };
}

/**
 * Any error tus is about to answer, in that JSON: its own plain-text refusals (`Upload-Offset
 * conflict`, `Maximum size exceeded`) keep their status and text, and an unexpected error is a
 * 500 that says no more.
 */
export function jsonRefusal(error: Error | TusRefusal): TusRefusal {
  if (!('status_code' in error) || typeof error.status_code !== 'number') {
    return { status_code: 500, body: refusalBody(500, 'internal', 'Internal server error') };
  }
  const { status_code: status, body } = error;
  if (body.startsWith('{')) return { status_code: status, body };
  const code = CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal' : 'invalid_upload');
  return { status_code: status, body: refusalBody(status, code, body.trim()) };
}
