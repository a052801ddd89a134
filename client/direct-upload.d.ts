/** Types of `nestjs-attachments/client` (client/direct-upload.js). */

/** What the upload endpoint answers. */
export interface UploadResponse {
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
      /** Made at promotion only: a cached file's answer never has one. */
      placeholder?: {
        type: 'thumbhash' | 'blurhash';
        hash: string;
        width: number;
        height: number;
      };
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

/**
 * Rejection of `uploadFile`, `uploadFileResumable` and `uploadFileToStorage` for a non-2xx answer
 * (`status`) or a failed connection (status 0).
 */
export declare class DirectUploadError extends Error {
  constructor(message: string, status: number, code: string, options?: { cause?: unknown });
  readonly status: number;
  /**
   * The server's error code (`file_too_large`, `file_type_not_allowed`, ...) or `network_error`.
   * For a refusal by the storage itself, S3's error code (`AccessDenied`...), except
   * `EntityTooLarge`, which is `file_too_large`.
   */
  readonly code: string;
}

/** Uploads one file (multipart field `file`) and resolves with the endpoint's answer. */
export declare function uploadFile(
  file: Blob,
  options?: UploadFileOptions,
): Promise<UploadResponse>;

/** What the app's `${endpoint}/params` route answers: one presigned request to the storage. */
export interface StorageUploadParams {
  method: 'POST' | 'PUT';
  url: string;
  /** Form fields to send before the file (POST). */
  fields: Record<string, string>;
  /** Headers the request must carry (PUT). */
  headers: Record<string, string>;
  /** The cached file's id in the cache storage. */
  key: string;
  /** Signed token naming the cached file: what a form sends in place of the file. */
  token: string;
}

/** What `uploadFileToStorage` resolves with. */
export interface StorageUploadResponse {
  /** Signed token naming the cached file: what a form sends in place of the file. */
  token: string;
  /** The cached file's id in the cache storage (the object key without the storage's prefix). */
  key: string;
  /**
   * Where the object now is on the storage, without a signature. Not a preview URL: it can only
   * be read where the bucket is public.
   */
  url?: string;
}

export interface UploadFileToStorageOptions extends UploadFileOptions {
  /**
   * The app's storage-upload routes, default `/attachments/s3`: the presigned request comes from
   * `${endpoint}/params`, a multipart upload goes through `${endpoint}/multipart`. `headers` go to
   * the app's routes only, never to the storage.
   */
  endpoint?: string;
  /**
   * Bytes above which the file is uploaded in parts (S3's multipart upload) rather than in one
   * request; default 100 MiB. S3 takes at most 5 GiB in one request.
   */
  multipartThreshold?: number;
  /**
   * Bytes of each part but the last; default and minimum 5 MiB (S3's minimum), raised so that the
   * file fits in S3's 10,000 parts.
   */
  partSize?: number;
  /** Parts sent at once; default 4. */
  parallelParts?: number;
  /**
   * Milliseconds to wait before each new attempt of a failed part, default `[1000, 3000, 5000]`:
   * as many retries as delays. A part is retried when no answer came, on a 5xx, and when its
   * presigned URL expired (each attempt is signed anew); any other refusal fails the upload at
   * once. A part that finally fails, or `signal`, aborts the whole multipart upload on the storage.
   */
  retryDelays?: number[];
}

/**
 * Uploads one file straight to the cache storage (S3 or an S3-compatible server, whose bucket
 * must allow the page's origin in its CORS rules): GETs a presigned POST (or PUT) from
 * `${endpoint}/params?filename=&type=&entity=&attachment=`, sends the file to the storage with
 * progress, and resolves with the token the app issued. The app checks the stored object's size
 * and type when the token is attached, so a refusal shows then rather than here.
 *
 * A file over `multipartThreshold` goes in parts instead, `parallelParts` at once, each a slice
 * of the file: `POST ${endpoint}/multipart`, one presigned PUT per part, then `complete`, whose
 * refusal (size, type) rejects here. Progress counts the file's bytes across the parts. The
 * bucket's CORS rules must expose the `ETag` header.
 */
export declare function uploadFileToStorage(
  file: Blob,
  options?: UploadFileToStorageOptions,
): Promise<StorageUploadResponse>;

export interface UploadFileResumableOptions extends UploadFileOptions {
  /** The app's tus routes, default `/attachments/tus`. */
  endpoint?: string;
  /** Bytes sent by each `PATCH` but the last; default 8 MiB. */
  chunkSize?: number;
  /**
   * Milliseconds to wait before each new attempt, default `[1000, 3000, 5000]`: as many retries
   * as delays, counted again after each `PATCH` that moved the upload on. A `PATCH` is retried
   * from the server's offset (asked with `HEAD`) when no answer came, on a 5xx and on a 409;
   * any other refusal rejects at once.
   */
  retryDelays?: number[];
}

/**
 * Uploads one file over tus 1.0 to the app's tus routes (`upload.tus` on) and resolves with the
 * same answer as `uploadFile`: creates the upload (`entity`, `attachment` and the file's name as
 * its metadata), sends `chunkSize` slices of the file, and resumes from the server's offset
 * after a failed `PATCH` (see `retryDelays`). The upload's URL is kept in `localStorage`, under
 * the file's name, size and date, the endpoint and the attachment: a new call for the same file,
 * after a reload too, continues that upload where the server has it, or starts anew once the
 * server no longer knows it. `signal` stops the request in flight, `DELETE`s the upload and
 * rejects with the signal's reason; a refusal (413 at creation, 415 or 422 at the end) rejects
 * with a `DirectUploadError`.
 */
export declare function uploadFileResumable(
  file: Blob,
  options?: UploadFileResumableOptions,
): Promise<UploadResponse>;

/** Defaults for every wired input; the input's `data-*` attributes take precedence. */
export interface WireOptions extends Omit<UploadFileOptions, 'onProgress' | 'signal'> {
  /** Default endpoint of inputs with `data-direct-upload="s3"`; see `uploadFileToStorage`. */
  storageEndpoint?: string;
  /** Default endpoint of inputs with `data-direct-upload="tus"`; see `uploadFileResumable`. */
  tusEndpoint?: string;
}

/**
 * Wires every `<input type="file" data-direct-upload>` inside `root`: the chosen file uploads at
 * once (`data-entity`, `data-attachment`, `data-endpoint`) to the app's upload endpoint, or, with
 * `data-direct-upload="s3"`, straight to the cache storage, or, with `data-direct-upload="tus"`,
 * over tus (`uploadFileResumable`). A `<progress>` shows how far (or the element matched by
 * `data-progress`), errors show in a `role="alert"` element (or `data-error`),
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
    'direct-upload:done': CustomEvent<UploadResponse | StorageUploadResponse>;
    'direct-upload:error': CustomEvent<DirectUploadError | Error>;
  }
}
