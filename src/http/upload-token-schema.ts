/**
 * `nestjs-attachments/token-schema`: an early check of upload tokens as a Standard Schema, for
 * Nest's schema validation, with no validation library to install.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { AttachmentError, verifyCacheUploadToken } from '../core/index.js';

/** What an early check of an upload token needs: the module's secret and cache storage. */
export interface UploadTokenCheckOptions {
  secret: string;
  /** The module's `cacheStorage`; `'cache'` when not given, as in the module. */
  cacheStorage?: string;
}

/**
 * Why a value is not an upload token `attach()` could accept (shape, signature, expiry, cache
 * storage), or null when it could be. It never claims the token: single use, the uploader and
 * the file itself are still checked at `attach()`.
 */
export function uploadTokenProblem(
  value: unknown,
  options: UploadTokenCheckOptions,
): string | null {
  try {
    verifyCacheUploadToken(value, options.secret, options.cacheStorage ?? 'cache');
    return null;
  } catch (error) {
    if (error instanceof AttachmentError) return error.message;
    throw error;
  }
}

/**
 * A Standard Schema of an upload token, for Nest's `StandardSchemaValidationPipe` (or any
 * validator that reads Standard Schemas). Its issue carries the message `attach()` would throw.
 */
export function uploadTokenSchema(
  options: UploadTokenCheckOptions,
): StandardSchemaV1<unknown, string> {
  return {
    '~standard': {
      version: 1,
      vendor: 'nestjs-attachments',
      validate(value) {
        const problem = uploadTokenProblem(value, options);
        return problem === null ? { value: value as string } : { issues: [{ message: problem }] };
      },
    },
  };
}
