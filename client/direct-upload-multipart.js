// @ts-check
/**
 * Uploads of large files straight to S3 in parts, for `uploadFileToStorage` in direct-upload.js,
 * through the app's `${endpoint}/multipart` routes (the ones Uppy's AwsS3 plugin calls). Not an
 * entry point of its own.
 */

import {
  DirectUploadError,
  STORAGE_UNREACHABLE,
  abortReason,
  askApp,
  invalidAnswer,
  json,
  send,
  storageRefusal,
  storageRoute,
  targetOf,
  withoutQuery,
  percentOf,
} from './direct-upload-requests.js';

const MiB = 1024 * 1024;
/** S3's rules for multipart uploads: every part but the last at least 5 MiB, at most 10,000. */
const MIN_PART_SIZE = 5 * MiB;
const MAX_PARTS = 10_000;

/**
 * A multipart upload: creates it, sends `parallelParts` parts at once (each a slice of the file,
 * so the file is never read into memory), completes it, and aborts it on any failure or on
 * `signal`, so the storage keeps no parts of an upload that will not finish.
 *
 * @param {Blob} file
 * @param {import('./direct-upload.js').UploadFileToStorageOptions} options
 * @returns {Promise<import('./direct-upload.js').StorageUploadResponse>}
 */
export async function uploadInParts(file, options) {
  const { endpoint, headers = {}, signal } = options;
  const target = targetOf(file, options);
  // One signal for every request: the caller's abort, or the first part that finally fails.
  const running = new AbortController();
  const stop = () => running.abort(abortReason(signal));
  signal?.addEventListener('abort', stop, { once: true });
  /** @type {MultipartUpload | undefined} */
  let upload;
  try {
    upload = await createUpload(endpoint, target, headers, running);
    const parts = await uploadParts(file, upload, options, running);
    const completion = storageRoute(endpoint, `multipart/${upload.path}/complete`);
    completion.searchParams.set('key', upload.key);
    const body = json('POST', { parts, ...target });
    const done = await askApp(completion, body, headers, running.signal).catch((error) => {
      // The app joined the parts, measured the object and deleted it: no upload is left to abort.
      if (error instanceof DirectUploadError && [413, 415].includes(error.status))
        upload = undefined;
      throw error;
    });
    if (typeof done?.token !== 'string') throw invalidAnswer('completion');
    const key = typeof done.file?.id === 'string' ? done.file.id : upload.key;
    return { token: done.token, key, url: upload.objectUrl };
  } catch (error) {
    if (upload) await deleteUpload(endpoint, upload, headers);
    throw running.signal.aborted ? running.signal.reason : error;
  } finally {
    signal?.removeEventListener('abort', stop);
  }
}

/**
 * @typedef {{ uploadId: string, key: string, path: string, objectUrl?: string }} MultipartUpload
 *   `key` exactly as the app answered it, `path` the upload's id as a URL segment
 */

/**
 * POSTs the create request. An abort does not cut it off: an upload the storage created by then
 * is aborted as soon as its id arrives, so no upload is left that nobody knows of.
 *
 * @param {string | undefined} endpoint
 * @param {Record<string, string>} target
 * @param {Record<string, string>} headers
 * @param {AbortController} running
 * @returns {Promise<MultipartUpload>}
 */
async function createUpload(endpoint, target, headers, running) {
  const url = storageRoute(endpoint, 'multipart');
  const creating = askApp(url, json('POST', target), headers).then((body) => {
    if (typeof body?.uploadId !== 'string' || typeof body.key !== 'string') {
      throw invalidAnswer('multipart upload');
    }
    const { uploadId, key } = body;
    return { uploadId, key, path: encodeURIComponent(uploadId) };
  });
  const aborted = new Promise((_, reject) => {
    if (running.signal.aborted) reject(running.signal.reason);
    running.signal.addEventListener('abort', () => reject(running.signal.reason), { once: true });
  });
  try {
    return await Promise.race([creating, aborted]);
  } catch (error) {
    if (running.signal.aborted) {
      creating.then((upload) => deleteUpload(endpoint, upload, headers)).catch(() => {});
    }
    throw error;
  }
}

/**
 * Sends every part, `parallelParts` at once, and resolves with their `{PartNumber, ETag}` in
 * order. The first part that finally fails aborts `running`, which stops the others.
 *
 * @param {Blob} file
 * @param {MultipartUpload} upload
 * @param {import('./direct-upload.js').UploadFileToStorageOptions} options
 * @param {AbortController} running
 * @returns {Promise<{ PartNumber: number, ETag: string }[]>}
 */
async function uploadParts(file, upload, options, running) {
  const { parallelParts = 4 } = options;
  const size = partSize(file.size, options.partSize);
  const count = Math.max(1, Math.ceil(file.size / size));
  const progress = partsProgress(file.size, options.onProgress);
  /** @type {{ PartNumber: number, ETag: string }[]} */
  const parts = [];
  let next = 0;
  const sender = async () => {
    while (next < count && !running.signal.aborted) {
      const index = next++;
      const part = file.slice(index * size, Math.min(file.size, (index + 1) * size));
      const onLoaded = (/** @type {number} */ loaded) => progress(index, loaded);
      const ETag = await sendPart(part, index + 1, upload, options, running.signal, onLoaded);
      parts[index] = { PartNumber: index + 1, ETag };
    }
  };
  const senders = Array.from({ length: Math.min(Math.max(1, parallelParts), count) }, () =>
    sender().catch((error) => {
      if (!running.signal.aborted) running.abort(error);
      throw error;
    }),
  );
  await Promise.all(senders);
  return parts;
}

/**
 * The part size: the one asked for, but at least S3's minimum, and large enough that the file
 * fits in S3's 10,000 parts.
 *
 * @param {number} fileSize
 * @param {number} [wanted]
 */
function partSize(fileSize, wanted = MIN_PART_SIZE) {
  return Math.max(MIN_PART_SIZE, wanted, Math.ceil(fileSize / MAX_PARTS));
}

/**
 * One progress report for the whole file from the bytes sent of each part; it never goes back,
 * even when a failed part starts over.
 *
 * @param {number} total
 * @param {((progress: import('./direct-upload.js').UploadProgress) => void) | undefined} onProgress
 * @returns {(index: number, loaded: number) => void}
 */
function partsProgress(total, onProgress) {
  /** @type {number[]} */
  const sent = [];
  let sum = 0;
  let reported = 0;
  return (index, loaded) => {
    sum += loaded - (sent[index] ?? 0);
    sent[index] = loaded;
    if (sum <= reported) return;
    reported = sum;
    onProgress?.({ loaded: sum, total, percent: percentOf(sum, total) });
  };
}

/**
 * Sends one part with a fresh signature for each attempt, retrying after `retryDelays` when no
 * answer came, the app or the storage failed (5xx), or the signature expired. Resolves with the
 * part's ETag.
 *
 * @param {Blob} part
 * @param {number} number
 * @param {MultipartUpload} upload
 * @param {import('./direct-upload.js').UploadFileToStorageOptions} options
 * @param {AbortSignal} signal
 * @param {(loaded: number) => void} onLoaded
 * @returns {Promise<string>}
 */
async function sendPart(part, number, upload, options, signal, onLoaded) {
  const { endpoint, headers = {}, retryDelays = [1000, 3000, 5000] } = options;
  for (let attempt = 0; ; attempt++) {
    try {
      const url = storageRoute(endpoint, `multipart/${upload.path}/${number}`);
      url.searchParams.set('key', upload.key);
      const signed = await askApp(url, { method: 'GET' }, headers, signal);
      if (typeof signed?.url !== 'string') throw invalidAnswer('part URL');
      upload.objectUrl ??= withoutQuery(signed.url);
      const request = { method: 'PUT', url: signed.url, headers: signed.headers ?? {}, body: part };
      /** @type {(progress: { loaded: number }) => void} */
      const onProgress = ({ loaded }) => onLoaded(loaded);
      const xhr = await send(request, part, { signal, onProgress }, STORAGE_UNREACHABLE);
      if (xhr.status < 200 || xhr.status >= 300) throw storageRefusal(xhr);
      const etag = xhr.getResponseHeader('ETag');
      if (!etag) {
        const message = "The storage hid the part's ETag: its CORS rules must expose ETag";
        throw new DirectUploadError(message, xhr.status, 'invalid_response');
      }
      onLoaded(part.size);
      return etag;
    } catch (error) {
      onLoaded(0);
      const retry = !signal.aborted && attempt < retryDelays.length && worthRetrying(error);
      if (!retry) throw error;
      await pause(retryDelays[attempt], signal);
    }
  }
}

/**
 * A failure that may pass: no answer, a server error, or an expired signature (S3 answers 403
 * "Request has expired"; the next attempt is signed anew).
 *
 * @param {unknown} error
 */
function worthRetrying(error) {
  if (!(error instanceof DirectUploadError)) return false;
  const expired = error.status === 403 && /request has expired/i.test(error.message);
  return error.status === 0 || error.status >= 500 || expired || error.code === 'ExpiredToken';
}

/**
 * Aborts a multipart upload after a failure or an abort, without the caller's signal (it may be
 * aborted already). Its own failure is not reported: the app's cache sweep removes what is left.
 *
 * @param {string | undefined} endpoint
 * @param {MultipartUpload} upload
 * @param {Record<string, string>} headers
 */
async function deleteUpload(endpoint, upload, headers) {
  const url = storageRoute(endpoint, `multipart/${upload.path}`);
  url.searchParams.set('key', upload.key);
  await fetch(url, { method: 'DELETE', headers: { Accept: 'application/json', ...headers } }).catch(
    () => {},
  );
}

/**
 * @param {number} ms
 * @param {AbortSignal} signal
 * @returns {Promise<void>}
 */
function pause(ms, signal) {
  return new Promise((resolve, reject) => {
    const done = () => {
      signal.removeEventListener('abort', aborted);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const aborted = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', aborted, { once: true });
  });
}
