// @ts-check
/**
 * The requests every upload of the browser client makes, and the error they reject with: to the
 * app's routes with fetch, to the storage with XMLHttpRequest (for its upload progress). Imported
 * by direct-upload.js and direct-upload-multipart.js; not an entry point of its own.
 */

/**
 * A browser does not tell the page why a request to another origin got no answer, so the
 * message names the usual cause.
 */
export const STORAGE_UNREACHABLE =
  'The upload could not reach the storage (does the bucket allow this origin in its CORS rules?)';

/**
 * Rejection of `uploadFile`, `uploadFileResumable` and `uploadFileToStorage` for an answer that
 * is not 2xx, or for a failed connection.
 */
export class DirectUploadError extends Error {
  /**
   * @param {string} message the server's message, meant for people
   * @param {number} status HTTP status, 0 when no answer arrived
   * @param {string} code the server's stable error code (`file_too_large`, ...)
   * @param {{ cause?: unknown }} [options]
   */
  constructor(message, status, code, options) {
    super(message, options);
    this.name = 'DirectUploadError';
    this.status = status;
    this.code = code;
  }
}

/**
 * What the app's routes are told of the file: its name and type, and the attachment whose rules
 * apply. Empty values are left out.
 *
 * @param {Blob} file
 * @param {{ entity?: string, attachment?: string }} options
 * @returns {Record<string, string>}
 */
export function targetOf(file, { entity, attachment }) {
  const filename = file instanceof File ? file.name : '';
  const target = { filename, type: file.type, entity: entity ?? '', attachment: attachment ?? '' };
  return Object.fromEntries(Object.entries(target).filter(([, value]) => value));
}

/**
 * A route of the app's storage-upload routes, default under `/attachments/s3`.
 *
 * @param {string | undefined} endpoint
 * @param {string} path
 */
export function storageRoute(endpoint = '/attachments/s3', path) {
  return new URL(`${endpoint.replace(/\/+$/, '')}/${path}`, document.baseURI);
}

/**
 * @param {string} method
 * @param {unknown} body
 * @returns {RequestInit}
 */
export function json(method, body) {
  return { method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
}

/**
 * Sends one request to the app's routes and resolves with its JSON answer; rejects with a
 * `DirectUploadError` for a refusal or no answer, and with the signal's reason on abort.
 *
 * @param {URL} url
 * @param {RequestInit} init
 * @param {Record<string, string>} headers the caller's headers, for the app only
 * @param {AbortSignal} [signal]
 * @returns {Promise<any>}
 */
export async function askApp(url, init, headers, signal) {
  let response;
  try {
    response = await fetch(url, {
      ...init,
      headers: { Accept: 'application/json', ...init.headers, ...headers },
      signal,
    });
  } catch (error) {
    if (signal?.aborted) throw abortReason(signal);
    throw new DirectUploadError('The upload could not reach the server', 0, 'network_error', {
      cause: error,
    });
  }
  const body = await response.json().catch(() => null);
  if (signal?.aborted) throw abortReason(signal); // an abort while the body arrived
  if (!response.ok) {
    const message = messageOf(body) ?? `Upload failed with HTTP ${response.status}`;
    throw new DirectUploadError(message, response.status, body?.code ?? 'http_error');
  }
  return body;
}

/** @param {string} what */
export function invalidAnswer(what) {
  return new DirectUploadError(`The upload endpoint answered no ${what}`, 200, 'invalid_response');
}

/**
 * A refusal by the storage. S3 explains itself in XML:
 * `<Error><Code>EntityTooLarge</Code><Message>...</Message></Error>`.
 *
 * @param {XMLHttpRequest} xhr
 */
export function storageRefusal(xhr) {
  const code = xmlText(xhr.responseText, 'Code');
  const message = xmlText(xhr.responseText, 'Message') ?? `Upload failed with HTTP ${xhr.status}`;
  const known = code === 'EntityTooLarge' ? 'file_too_large' : code;
  return new DirectUploadError(message, xhr.status, known ?? 'http_error');
}

/**
 * Sends one request with XMLHttpRequest, the only browser API that reports upload progress.
 * Resolves with the finished request whatever its status; rejects when no answer arrived.
 *
 * @param {{ method: string, url: string | URL, headers: Record<string, string>,
 *   body: XMLHttpRequestBodyInit }} request
 * @param {Blob} file for the progress total, when the browser cannot compute it
 * @param {{ onProgress?: (progress: import('./direct-upload.js').UploadProgress) => void,
 *   signal?: AbortSignal }} options
 * @param {string} unreachable the message when no answer arrived
 * @returns {Promise<XMLHttpRequest>}
 */
export function send(request, file, options, unreachable) {
  const { onProgress, signal } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const xhr = new XMLHttpRequest();
    xhr.open(request.method, request.url);
    for (const [name, value] of Object.entries(request.headers)) xhr.setRequestHeader(name, value);
    const abort = () => xhr.abort();
    signal?.addEventListener('abort', abort, { once: true });
    const settle = () => signal?.removeEventListener('abort', abort);

    xhr.upload.addEventListener('progress', (event) => {
      const total = event.lengthComputable ? event.total : file.size;
      onProgress?.({ loaded: event.loaded, total, percent: percentOf(event.loaded, total) });
    });
    xhr.addEventListener('load', () => {
      settle();
      resolve(xhr);
    });
    xhr.addEventListener('error', () => {
      settle();
      reject(new DirectUploadError(unreachable, 0, 'network_error'));
    });
    xhr.addEventListener('abort', () => {
      settle();
      reject(abortReason(signal));
    });
    xhr.send(request.body);
  });
}

/** @param {number} loaded @param {number} total */
export function percentOf(loaded, total) {
  return total > 0 ? Math.min(100, Math.round((loaded / total) * 100)) : 100;
}

/** An address without its query: a presigned URL without the signature. */
export function withoutQuery(/** @type {string} */ address) {
  const url = new URL(address);
  url.search = '';
  return url.href;
}

/** @param {Blob} file */
export function nameOf(file) {
  return file instanceof File ? file.name : 'blob';
}

/**
 * The text of the first `<tag>` element of an S3 error document, if any.
 *
 * @param {string} xml
 * @param {string} tag
 */
export function xmlText(xml, tag) {
  const match = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  if (!match) return undefined;
  const entities = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return match[1].replace(
    /&(?:(amp|lt|gt|quot|apos)|#(\d{1,7})|#x([0-9a-f]{1,6}));/gi,
    (entity, name, decimal, hex) => {
      if (name) return entities[/** @type {keyof typeof entities} */ (name.toLowerCase())];
      const code = decimal ? Number(decimal) : parseInt(hex, 16);
      return code <= 0x10ffff ? String.fromCodePoint(code) : entity;
    },
  );
}

/** @param {AbortSignal | undefined} signal */
export function abortReason(signal) {
  return signal?.reason ?? new DOMException('The upload was aborted', 'AbortError');
}

/** @param {any} body */
export function messageOf(body) {
  const message = body?.message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : undefined;
}
