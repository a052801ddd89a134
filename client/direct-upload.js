// @ts-check
/**
 * Direct uploads for nestjs-attachments, in the browser. Dependency-free ES module, no build
 * step: import it from `nestjs-attachments/client` or from the controller at
 * `/attachments/client.js`.
 *
 * A file is sent as soon as it is chosen, to the app's upload endpoint (`uploadFile`), to its tus
 * routes in resumable slices (`uploadFileResumable`) or straight to the cache storage with a
 * presigned request (`uploadFileToStorage`, for S3); the form then
 * carries only the signed token the app issued, never the file's bytes.
 */

import { uploadInParts } from './direct-upload-multipart.js';
import { uploadFileResumable } from './direct-upload-tus.js';
import {
  DirectUploadError,
  STORAGE_UNREACHABLE,
  abortReason,
  askApp,
  invalidAnswer,
  messageOf,
  nameOf,
  send,
  storageRefusal,
  storageRoute,
  targetOf,
  withoutQuery,
} from './direct-upload-requests.js';

export { DirectUploadError, uploadFileResumable };

/** Files above it go in parts: S3 takes at most 5 GiB in one request, and a part can be retried. */
const MULTIPART_THRESHOLD = 100 * 1024 * 1024;

/**
 * Uploads one file through the app's upload endpoint. XMLHttpRequest rather than fetch, because
 * only XHR reports upload progress in every browser.
 *
 * @param {Blob} file
 * @param {import('./direct-upload.js').UploadFileOptions} [options]
 * @returns {Promise<import('./direct-upload.js').UploadResponse>}
 */
export async function uploadFile(file, options = {}) {
  const { endpoint = '/attachments/upload', entity, attachment, headers = {} } = options;
  const url = new URL(endpoint, document.baseURI);
  // In the query, not the body: the server picks the attachment's limits before the file.
  if (entity) url.searchParams.set('entity', entity);
  if (attachment) url.searchParams.set('attachment', attachment);
  const form = new FormData();
  form.append('file', file, nameOf(file));
  const xhr = await send(
    { method: 'POST', url, headers: { Accept: 'application/json', ...headers }, body: form },
    file,
    options,
    'The upload could not reach the server',
  );
  let body = null;
  try {
    body = JSON.parse(xhr.responseText);
  } catch {
    // A proxy's HTML error page: the status still says what happened.
  }
  if (xhr.status >= 200 && xhr.status < 300 && body) return body;
  const message = messageOf(body) ?? `Upload failed with HTTP ${xhr.status}`;
  throw new DirectUploadError(message, xhr.status, body?.code ?? 'http_error');
}

/**
 * Uploads one file straight to the cache storage (S3 or an S3-compatible server) and resolves
 * with the token the app issued for the object. A file up to `multipartThreshold` goes in one
 * presigned request from the app's `${endpoint}/params` route; a larger one in parts, through the
 * `${endpoint}/multipart` routes. The app checks the object's size and type when the token is
 * used (and, for parts, once they are joined), not before.
 *
 * @param {Blob} file
 * @param {import('./direct-upload.js').UploadFileToStorageOptions} [options]
 * @returns {Promise<import('./direct-upload.js').StorageUploadResponse>}
 */
export async function uploadFileToStorage(file, options = {}) {
  const { multipartThreshold = MULTIPART_THRESHOLD, signal } = options;
  if (signal?.aborted) throw abortReason(signal);
  return file.size > multipartThreshold
    ? uploadInParts(file, options)
    : uploadAtOnce(file, options);
}

/**
 * @param {Blob} file
 * @param {import('./direct-upload.js').UploadFileToStorageOptions} options
 * @returns {Promise<import('./direct-upload.js').StorageUploadResponse>}
 */
async function uploadAtOnce(file, options) {
  const { endpoint, headers = {}, signal } = options;
  const url = storageRoute(endpoint, 'params');
  for (const [name, value] of Object.entries(targetOf(file, options))) {
    url.searchParams.set(name, value);
  }
  const params = await presignedRequest(url, headers, signal);

  /** @type {XMLHttpRequestBodyInit} */
  let body = file;
  if (params.method === 'POST') {
    // S3 reads the policy's fields first and ignores whatever follows the file.
    const form = new FormData();
    for (const [name, value] of Object.entries(params.fields ?? {})) form.append(name, value);
    form.append('file', file, nameOf(file));
    body = form;
  }
  // The app's headers (a CSRF token...) are not sent to the storage: they would break its CORS
  // preflight, and the signature covers what the storage needs.
  const request = { method: params.method, url: params.url, headers: params.headers ?? {}, body };
  const xhr = await send(request, file, options, STORAGE_UNREACHABLE);
  if (xhr.status < 200 || xhr.status >= 300) throw storageRefusal(xhr);
  return { token: params.token, key: params.key, url: objectUrl(params) };
}

/**
 * GETs the presigned request from the app.
 *
 * @param {URL} url
 * @param {Record<string, string>} headers
 * @param {AbortSignal | undefined} signal
 * @returns {Promise<import('./direct-upload.js').StorageUploadParams>}
 */
async function presignedRequest(url, headers, signal) {
  const body = await askApp(url, { method: 'GET' }, headers, signal);
  const valid =
    (body?.method === 'POST' || body?.method === 'PUT') &&
    typeof body.url === 'string' &&
    typeof body.token === 'string';
  if (!valid) throw invalidAnswer('presigned request');
  return body;
}

/**
 * The object's address on the storage, without the signature.
 *
 * @param {{ method: string, url: string, fields?: Record<string, string> }} params
 */
function objectUrl(params) {
  const url = new URL(withoutQuery(params.url));
  const key = params.fields?.key;
  if (params.method === 'POST' && key) {
    const path = key.split('/').map(encodeURIComponent).join('/');
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path}`;
  }
  return url.href;
}

/**
 * What each value of `data-direct-upload` uploads with, and which option of `wireDirectUploads`
 * gives its default endpoint.
 *
 * @type {Record<string, { upload: (file: Blob, options: import('./direct-upload.js').UploadFileOptions)
 *   => Promise<{ token: string }>, endpoint: 'endpoint' | 'storageEndpoint' | 'tusEndpoint' }>}
 */
const UPLOADS = {
  app: { upload: uploadFile, endpoint: 'endpoint' },
  s3: { upload: uploadFileToStorage, endpoint: 'storageEndpoint' },
  tus: { upload: uploadFileResumable, endpoint: 'tusEndpoint' },
};

/**
 * Wires every `<input type="file" data-direct-upload>` inside `root`: see direct-upload.d.ts.
 * `data-direct-upload="s3"` sends the file straight to the storage (`uploadFileToStorage`),
 * `"tus"` to the app's tus routes (`uploadFileResumable`); any other value, or none, to the app's
 * upload endpoint (`uploadFile`).
 *
 * @param {ParentNode} [root]
 * @param {import('./direct-upload.js').WireOptions} [options]
 * @returns {() => void} unwires: restores the inputs and removes what was added
 */
export function wireDirectUploads(root = document, options = {}) {
  /** @type {Map<HTMLInputElement, Field>} */
  const fields = new Map();
  /** @type {Map<HTMLFormElement, HTMLElement | null>} forms whose submit waits, by submitter */
  const held = new Map();
  /** @type {(() => void)[]} */
  const undo = [];
  const doc =
    root instanceof Document ? root : (/** @type {Node} */ (root).ownerDocument ?? document);

  for (const input of root.querySelectorAll('input[type="file"][data-direct-upload]')) {
    if (!(input instanceof HTMLInputElement) || input.dataset.directUploadWired) continue;
    const field = wire(input);
    fields.set(input, field);
    undo.push(field.unwire);
  }

  // Capture on the document runs before any submit listener of the page, so a held submit
  // never reaches the page's own handler.
  const onSubmit = (/** @type {SubmitEvent} */ event) => {
    const form = event.target;
    const mine = [...fields.values()].filter((field) => field.input.form === form);
    if (!(form instanceof HTMLFormElement) || mine.length === 0) return;
    const uploading = mine.some((field) => field.state === 'uploading');
    if (!uploading && !mine.some((field) => field.state === 'error')) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    if (uploading) held.set(form, event.submitter);
  };
  const onReset = (/** @type {Event} */ event) => {
    held.delete(/** @type {HTMLFormElement} */ (event.target)); // a reset form is not sent
    for (const field of fields.values()) if (field.input.form === event.target) field.clear();
  };
  doc.addEventListener('submit', onSubmit, true);
  doc.addEventListener('reset', onReset, true);
  undo.push(() => {
    doc.removeEventListener('submit', onSubmit, true);
    doc.removeEventListener('reset', onReset, true);
  });

  /** Sends a held form once its last upload finished, unless one of them failed. */
  function release() {
    for (const [form, submitter] of held) {
      const mine = [...fields.values()].filter((field) => field.input.form === form);
      if (mine.some((field) => field.state === 'uploading')) continue;
      held.delete(form);
      if (mine.some((field) => field.state === 'error')) continue;
      // requestSubmit throws for a submitter that is not a submit button of this form.
      const button = submitter && 'form' in submitter && submitter.form === form ? submitter : null;
      form.requestSubmit(/** @type {HTMLButtonElement | null} */ (button));
    }
  }

  /**
   * @typedef {{ input: HTMLInputElement, state: 'idle' | 'uploading' | 'done' | 'error',
   *   clear(): void, unwire(): void }} Field
   * @param {HTMLInputElement} input
   * @returns {Field}
   */
  function wire(input) {
    const name = input.name;
    /** @type {HTMLElement[]} */
    const added = [];
    // The token takes the file input's name, so a plain form submit sends the token and the
    // browser never sends the bytes a second time.
    const token = Object.assign(doc.createElement('input'), { type: 'hidden', name });
    input.removeAttribute('name');
    input.after(token);
    added.push(token);
    const progress = find(input.dataset.progress) ?? create('progress', token);
    const error = find(input.dataset.error) ?? create('span', progress);
    if (added.includes(error)) error.setAttribute('role', 'alert');
    error.hidden = true;
    input.dataset.directUploadWired = 'true';

    /** @type {AbortController | undefined} */
    let controller;
    const field = { input, state: /** @type {Field['state']} */ ('idle'), clear, unwire };

    /** @param {string | undefined} selector */
    function find(selector) {
      return selector ? /** @type {HTMLElement | null} */ (doc.querySelector(selector)) : null;
    }
    /** @param {string} tag @param {Element} after */
    function create(tag, after) {
      const element = doc.createElement(tag);
      after.after(element);
      added.push(element);
      return element;
    }
    /** @param {string} type @param {unknown} [detail] */
    function emit(type, detail) {
      input.dispatchEvent(new CustomEvent(`direct-upload:${type}`, { bubbles: true, detail }));
    }
    /** @param {number} percent */
    function show(percent) {
      if (progress instanceof HTMLProgressElement) {
        progress.max = 100;
        progress.value = percent;
      }
    }

    function clear() {
      controller?.abort();
      field.state = 'idle';
      token.value = '';
      input.setCustomValidity('');
      error.hidden = true;
      error.textContent = '';
      show(0);
    }

    async function onChange() {
      clear(); // a new choice replaces the previous upload, finished or not
      const file = input.files?.[0];
      if (!file) return release(); // a held form goes on without this file
      const own = (controller = new AbortController());
      field.state = 'uploading';
      emit('start', { file });
      const way = UPLOADS[input.dataset.directUpload ?? ''] ?? UPLOADS.app;
      try {
        const answer = await way.upload(file, {
          headers: options.headers,
          endpoint: input.dataset.endpoint ?? options[way.endpoint],
          entity: input.dataset.entity ?? options.entity,
          attachment: input.dataset.attachment ?? options.attachment,
          signal: own.signal,
          onProgress: (detail) => {
            show(detail.percent);
            emit('progress', detail);
          },
        });
        token.value = answer.token;
        field.state = 'done';
        show(100);
        emit('done', answer);
      } catch (failure) {
        if (own.signal.aborted) return; // replaced or unwired: not an error to show
        field.state = 'error';
        show(0); // the bytes went, but nothing was kept: a full bar would say otherwise
        const message = failure instanceof Error ? failure.message : String(failure);
        error.textContent = message;
        error.hidden = false;
        // Also blocks a submit through the browser's own validation, with the reason.
        input.setCustomValidity(message);
        emit('error', failure);
      }
      release();
    }

    input.addEventListener('change', onChange);

    function unwire() {
      input.removeEventListener('change', onChange);
      controller?.abort();
      input.setCustomValidity('');
      for (const element of added) element.remove();
      if (!added.includes(error)) error.hidden = true;
      if (name) input.name = name;
      delete input.dataset.directUploadWired;
    }
    return field;
  }

  return () => {
    for (const action of undo) action();
    fields.clear();
    held.clear();
  };
}
