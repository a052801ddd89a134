import { Upload, type DetailedError, type UploadOptions } from 'tus-js-client';
import type { UploadResponse } from '../../src/index.js';

/** What a finished tus upload gave the client: the app's JSON answer and its token header. */
export interface TusSuccess {
  /** The upload's URL, as the creation's `Location` gave it. */
  url: string;
  answer: UploadResponse;
  /** The token as the `Upload-Token` header carried it. */
  tokenHeader: string | undefined;
}

/** What a refused tus upload gave the client. */
export interface TusFailure {
  status: number | undefined;
  json: Record<string, unknown> | undefined;
}

export type TusClientOptions = Omit<UploadOptions, 'onSuccess' | 'onError' | 'endpoint'>;

/**
 * Uploads `data` with tus-js-client in Node, as an app's script would: the app's answer is read
 * from the last response, `lastResponse.getBody()`, as documented in the README.
 */
export function tusUpload(
  endpoint: string,
  data: Buffer,
  options: TusClientOptions,
): Promise<TusSuccess> {
  return new Promise((resolve, reject) => {
    const upload = new Upload(data, {
      retryDelays: null,
      ...options,
      endpoint,
      onSuccess: ({ lastResponse }) => {
        resolve({
          url: upload.url ?? '',
          answer: JSON.parse(lastResponse.getBody()) as UploadResponse,
          tokenHeader: lastResponse.getHeader('upload-token'),
        });
      },
      onError: reject,
    });
    upload.start();
  });
}

/** The same, for an upload the server is meant to refuse: the status and JSON it answered. */
export async function tusRefusal(
  endpoint: string,
  data: Buffer,
  options: TusClientOptions,
): Promise<TusFailure> {
  const outcome = await tusUpload(endpoint, data, options).then(
    () => null,
    (error: DetailedError) => error,
  );
  if (!outcome) throw new Error('The upload was accepted');
  const response = outcome.originalResponse;
  const body = response?.getBody();
  return {
    status: response?.getStatus(),
    json: body ? (JSON.parse(body) as Record<string, unknown>) : undefined,
  };
}
