/** Types of `nestjs-attachments/client` (client/direct-upload.js). */

/** What the upload endpoint answers. */
export interface DirectUploadResponse {
  /** Signed token naming the cached file: what a form sends in place of the file. */
  token: string;
  file: {
    id: string;
    storage: string;
    metadata: {
      filename: string | null;
      size: number;
      /** Judged from the bytes by the server. */
      mimeType: string;
      width?: number;
      height?: number;
      sha256?: string;
    };
  };
  /** A URL that serves the cached file, e.g. for a preview. */
  url: string;
}

export interface UploadProgress {
  loaded: number;
  total: number;
  /** 0 to 100, rounded. */
  percent: number;
}

export interface UploadFileOptions {
  /** Default `/attachments/upload`, resolved against the page's base URL. */
  endpoint?: string;
  /** Entity and attachment whose limits the server applies, e.g. `Photo` and `image`. */
  entity?: string;
  attachment?: string;
  /** Extra request headers, e.g. a CSRF token. */
  headers?: Record<string, string>;
  onProgress?: (progress: UploadProgress) => void;
  /** Aborting rejects the promise with the signal's reason. */
  signal?: AbortSignal;
}

/** Rejection of `uploadFile` for a non-2xx answer (`status`) or a failed connection (status 0). */
export declare class DirectUploadError extends Error {
  constructor(message: string, status: number, code: string);
  readonly status: number;
  /** The server's error code (`file_too_large`, `file_type_not_allowed`, ...) or `network_error`. */
  readonly code: string;
}

/** Uploads one file (multipart field `file`) and resolves with the endpoint's answer. */
export declare function uploadFile(
  file: Blob,
  options?: UploadFileOptions,
): Promise<DirectUploadResponse>;

/** Defaults for every wired input; the input's `data-*` attributes take precedence. */
export type WireOptions = Omit<UploadFileOptions, 'onProgress' | 'signal'>;

/**
 * Wires every `<input type="file" data-direct-upload>` inside `root`: the chosen file uploads at
 * once (`data-entity`, `data-attachment`, `data-endpoint`), a `<progress>` shows how far (or the
 * element matched by `data-progress`), errors show in a `role="alert"` element (or `data-error`),
 * and a hidden input that takes over the input's `name` receives the token. Events on the input:
 * `direct-upload:start`, `:progress`, `:done` (detail: the answer) and `:error` (detail: the
 * error). A form's submit waits for its uploads and goes on once they succeed; a failed upload
 * blocks it. Returns a function that unwires everything.
 */
export declare function wireDirectUploads(root?: ParentNode, options?: WireOptions): () => void;

declare global {
  interface HTMLElementEventMap {
    'direct-upload:start': CustomEvent<{ file: File }>;
    'direct-upload:progress': CustomEvent<UploadProgress>;
    'direct-upload:done': CustomEvent<DirectUploadResponse>;
    'direct-upload:error': CustomEvent<DirectUploadError | Error>;
  }
}
