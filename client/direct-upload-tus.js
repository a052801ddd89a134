// @ts-check
/**
 * Resumable uploads over tus 1.0 to the app's `{prefix}/tus` routes, for `uploadFileResumable` in
 * direct-upload.js. Not an entry point of its own.
 */

import {
  DirectUploadError,
  abortReason,
  messageOf,
  percentOf,
  send,
} from './direct-upload-requests.js';

const MiB = 1024 * 1024;
const TUS_VERSION = '1.0.0';
const UNREACHABLE = 'The upload could not reach the server';
const STORAGE_KEY_PREFIX = 'nestjs-attachments:tus:';

/**
 * Creates a tus upload (or continues the one an earlier page left for the same file), sends the
 * file in slices, and after a PATCH that got no answer, a 5xx or a 409 asks the server how much
 * it has and goes on from there.
 *
 * @param {Blob} file
 * @param {import('./direct-upload.js').UploadFileResumableOptions} [options]
 * @returns {Promise<import('./direct-upload.js').UploadResponse>}
 */
export async function uploadFileResumable(file, options = {}) {
  const { endpoint = '/attachments/tus', headers = {}, signal } = options;
  if (signal?.aborted) throw abortReason(signal);
  const creation = new URL(endpoint, document.baseURI);
  const memory = rememberedUpload(file, creation, options.attachment);
  /** @type {URL | undefined} */
  let upload;
  try {
    let offset = 0;
    const earlier = memory.read();
    const known = earlier ? await offsetOf(new URL(earlier), headers) : undefined;
    if (earlier && known !== undefined) {
      upload = new URL(earlier);
      offset = known;
    } else {
      memory.forget();
      // Not cut off by an abort: an upload the server created by then is deleted right after.
      upload = await create(creation, file, options);
      memory.keep(upload.href);
    }
    if (signal?.aborted) throw abortReason(signal);
    const answer = await sendFrom(upload, offset, file, options);
    memory.forget();
    return answer;
  } catch (error) {
    if (signal?.aborted && upload) {
      memory.forget();
      await terminate(upload, headers);
      throw abortReason(signal);
    }
    // A refusal ends the upload on the server; what a retry could have overcome leaves it to
    // resume, by a later call.
    if (error instanceof DirectUploadError && !retryable(error)) memory.forget();
    throw error;
  }
}

/**
 * Where a tab remembers the upload of a file, so that a reload continues it. The key names the
 * file as the page sees it again (name, size, date), and where it goes.
 *
 * @param {Blob} file
 * @param {URL} endpoint
 * @param {string | undefined} attachment
 */
function rememberedUpload(file, endpoint, attachment) {
  const named = file instanceof File ? [file.name, file.lastModified] : ['', ''];
  const key =
    STORAGE_KEY_PREFIX + JSON.stringify([endpoint.href, attachment ?? '', file.size, ...named]);
  // Storage can be off (a private window, a policy): then uploads just do not outlive the page.
  const attempt = (/** @type {(storage: Storage) => string | null | void} */ action) => {
    try {
      return action(localStorage) ?? undefined;
    } catch {
      return undefined;
    }
  };
  return {
    read: () => attempt((storage) => storage.getItem(key)),
    keep: (/** @type {string} */ url) => attempt((storage) => storage.setItem(key, url)),
    forget: () => attempt((storage) => storage.removeItem(key)),
  };
}

/**
 * POSTs the creation request and resolves with the upload's URL.
 *
 * @param {URL} endpoint
 * @param {Blob} file
 * @param {import('./direct-upload.js').UploadFileResumableOptions} options
 */
async function create(endpoint, file, options) {
  const metadata = {
    entity: options.entity,
    attachment: options.attachment,
    filename: file instanceof File ? file.name : undefined,
  };
  const response = await request(endpoint, 'POST', {
    ...options.headers,
    'Upload-Length': String(file.size),
    'Upload-Metadata': Object.entries(metadata)
      .filter(([, value]) => value)
      .map(([name, value]) => `${name} ${base64(String(value))}`)
      .join(','),
  });
  const location = response.headers.get('Location');
  if (response.status !== 201 || !location) throw await refusal(response);
  return new URL(location, endpoint);
}

/**
 * Sends the file from `offset` in `chunkSize` slices, one PATCH each, and resolves with the
 * answer to the last one. Retries from the server's offset as `retryDelays` allow; the count
 * starts again after every PATCH that moved the upload on.
 *
 * @param {URL} upload
 * @param {number} offset
 * @param {Blob} file
 * @param {import('./direct-upload.js').UploadFileResumableOptions} options
 * @returns {Promise<import('./direct-upload.js').UploadResponse>}
 */
async function sendFrom(upload, offset, file, options) {
  const { headers = {}, chunkSize = 8 * MiB, retryDelays = [1000, 3000, 5000], signal } = options;
  let shown = 0; // the progress reported so far: a retry from an earlier offset does not undo it
  const onProgress = (/** @type {number} */ loaded) => {
    if (loaded < shown) return;
    shown = loaded;
    options.onProgress?.({ loaded, total: file.size, percent: percentOf(loaded, file.size) });
  };
  let failures = 0;
  for (;;) {
    const end = Math.min(file.size, offset + Math.max(1, chunkSize));
    const chunk = file.slice(offset, end);
    const from = offset;
    const answer = await patch(upload, from, chunk, headers, signal, (sent) =>
      onProgress(from + sent),
    ).catch((error) => {
      if (error instanceof DirectUploadError) return error;
      throw error; // the abort
    });
    if (!(answer instanceof DirectUploadError)) {
      if (answer.status === 200) return finalAnswer(answer);
      const moved = Number(answer.getResponseHeader('Upload-Offset'));
      if (answer.status === 204 && Number.isInteger(moved) && moved > offset) {
        offset = moved;
        onProgress(offset);
        failures = 0;
        continue;
      }
    }
    const error = answer instanceof DirectUploadError ? answer : tusRefusal(answer);
    if (!retryable(error) || failures >= retryDelays.length) throw error;
    await delay(retryDelays[failures++] ?? 0, signal);
    // No answer to the HEAD either: the next PATCH tries the same offset, and a 409 says better.
    const known = await offsetOf(upload, headers).catch(() => offset);
    if (known === undefined) throw error; // the server no longer has it
    offset = known;
  }
}

/**
 * No answer, a server error, or an offset the server does not have (409): worth asking the
 * server's offset and going on.
 *
 * @param {DirectUploadError} error
 */
function retryable(error) {
  return error.status === 0 || error.status === 409 || error.status >= 500;
}

/**
 * @param {URL} upload
 * @param {number} offset
 * @param {Blob} chunk
 * @param {Record<string, string>} headers
 * @param {AbortSignal | undefined} signal
 * @param {(sent: number) => void} onSent bytes of this chunk sent so far
 */
function patch(upload, offset, chunk, headers, signal, onSent) {
  const request = {
    method: 'PATCH',
    url: upload,
    headers: {
      Accept: 'application/json',
      ...headers,
      'Tus-Resumable': TUS_VERSION,
      'Upload-Offset': String(offset),
      'Content-Type': 'application/offset+octet-stream',
    },
    body: chunk,
  };
  const progress = {
    signal,
    onProgress: (/** @type {{ loaded: number }} */ event) => onSent(event.loaded),
  };
  return send(request, chunk, progress, UNREACHABLE);
}

/** @param {XMLHttpRequest} xhr */
function finalAnswer(xhr) {
  const body = parsed(xhr.responseText);
  if (typeof body?.token !== 'string') {
    throw new DirectUploadError('The upload endpoint answered no token', 200, 'invalid_response');
  }
  return body;
}

/**
 * The server's offset of the upload, or undefined when it no longer has it (404, 410, or
 * another refusal). A failed connection rejects.
 *
 * @param {URL} upload
 * @param {Record<string, string>} headers
 * @returns {Promise<number | undefined>}
 */
async function offsetOf(upload, headers) {
  const response = await request(upload, 'HEAD', headers);
  const offset = Number(response.headers.get('Upload-Offset'));
  return response.ok && Number.isInteger(offset) && offset >= 0 ? offset : undefined;
}

/**
 * DELETEs the upload, so the server drops what it has; nothing to do if that fails, the server
 * expires it.
 *
 * @param {URL} upload
 * @param {Record<string, string>} headers
 */
async function terminate(upload, headers) {
  await request(upload, 'DELETE', headers).catch(() => undefined);
}

/**
 * One request of the tus protocol without a body to send, with fetch. Rejects with a
 * `DirectUploadError` when no answer arrived.
 *
 * @param {URL} url
 * @param {string} method
 * @param {Record<string, string>} headers
 */
async function request(url, method, headers) {
  try {
    return await fetch(url, {
      method,
      cache: 'no-store', // tus: an offset must never come from a cache
      headers: { Accept: 'application/json', ...headers, 'Tus-Resumable': TUS_VERSION },
    });
  } catch (error) {
    throw new DirectUploadError(UNREACHABLE, 0, 'network_error', { cause: error });
  }
}

/** @param {Response} response */
async function refusal(response) {
  const body = await response.json().catch(() => null);
  return refused(response.status, body);
}

/** @param {XMLHttpRequest} xhr */
function tusRefusal(xhr) {
  return refused(xhr.status, parsed(xhr.responseText));
}

/** @param {number} status @param {any} body */
function refused(status, body) {
  const message = messageOf(body) ?? `Upload failed with HTTP ${status}`;
  return new DirectUploadError(message, status, body?.code ?? 'http_error');
}

/** @param {string} text */
function parsed(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null; // a proxy's HTML page: the status still says what happened
  }
}

/** Base64 of the UTF-8 bytes, as tus metadata wants it. @param {string} text */
function base64(text) {
  return btoa(
    Array.from(new TextEncoder().encode(text), (byte) => String.fromCharCode(byte)).join(''),
  );
}

/**
 * Waits `ms` milliseconds, or rejects with the signal's reason once it aborts.
 *
 * @param {number} ms
 * @param {AbortSignal | undefined} signal
 */
function delay(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const done = () => {
      signal?.removeEventListener('abort', stop);
      resolve(undefined);
    };
    const timer = setTimeout(done, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    signal?.addEventListener('abort', stop, { once: true });
  });
}
