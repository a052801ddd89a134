// @ts-check
/**
 * Direct uploads for nestjs-attachments, in the browser. Dependency-free ES module, no build
 * step: import it from `nestjs-attachments/client` or from the controller at
 * `/attachments/client.js`.
 *
 * A file is sent as soon as it is chosen, to the app's upload endpoint (`uploadFile`) or straight
 * to the cache storage with a presigned request (`uploadFileToStorage`, for S3); the form then
 * carries only the signed token the app issued, never the file's bytes.
 */

/**
 * Rejection of `uploadFile` and `uploadFileToStorage` for an answer that is not 2xx, or for a
 * failed connection.
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
 * Uploads one file straight to the cache storage (S3 or an S3-compatible server): asks the
 * app's `${endpoint}/params` route for a presigned request, sends the bytes to the storage with
 * it, and resolves with the token the app issued for the object. The app checks the object's
 * size and type when the token is used, not before.
 *
 * @param {Blob} file
 * @param {import('./direct-upload.js').UploadFileToStorageOptions} [options]
 * @returns {Promise<import('./direct-upload.js').StorageUploadResponse>}
 */
export async function uploadFileToStorage(file, options = {}) {
  const { endpoint = '/attachments/s3', entity, attachment, headers = {}, signal } = options;
  if (signal?.aborted) throw abortReason(signal);
  const url = new URL(`${endpoint.replace(/\/+$/, '')}/params`, document.baseURI);
  const filename = file instanceof File ? file.name : '';
  if (filename) url.searchParams.set('filename', filename);
  if (file.type) url.searchParams.set('type', file.type);
  if (entity) url.searchParams.set('entity', entity);
  if (attachment) url.searchParams.set('attachment', attachment);
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
  const xhr = await send(
    request,
    file,
    options,
    'The upload could not reach the storage (does the bucket allow this origin in its CORS rules?)',
  );
  if (xhr.status < 200 || xhr.status >= 300) {
    // S3 explains itself in XML: <Error><Code>EntityTooLarge</Code><Message>...</Message></Error>
    const code = xmlText(xhr.responseText, 'Code');
    const message = xmlText(xhr.responseText, 'Message') ?? `Upload failed with HTTP ${xhr.status}`;
    const known = code === 'EntityTooLarge' ? 'file_too_large' : code;
    throw new DirectUploadError(message, xhr.status, known ?? 'http_error');
  }
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
  let response;
  try {
    response = await fetch(url, { headers: { Accept: 'application/json', ...headers }, signal });
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
  const valid =
    (body?.method === 'POST' || body?.method === 'PUT') &&
    typeof body.url === 'string' &&
    typeof body.token === 'string';
  if (!valid) {
    throw new DirectUploadError(
      'The upload endpoint answered no presigned request',
      response.status,
      'invalid_response',
    );
  }
  return body;
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
function send(request, file, options, unreachable) {
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
      const percent = total > 0 ? Math.min(100, Math.round((event.loaded / total) * 100)) : 100;
      onProgress?.({ loaded: event.loaded, total, percent });
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

/** @param {Blob} file */
function nameOf(file) {
  return file instanceof File ? file.name : 'blob';
}

/**
 * The object's address on the storage, without the signature.
 *
 * @param {{ method: string, url: string, fields?: Record<string, string> }} params
 */
function objectUrl(params) {
  const url = new URL(params.url);
  url.search = '';
  const key = params.fields?.key;
  if (params.method === 'POST' && key) {
    const path = key.split('/').map(encodeURIComponent).join('/');
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path}`;
  }
  return url.href;
}

/**
 * The text of the first `<tag>` element of an S3 error document, if any.
 *
 * @param {string} xml
 * @param {string} tag
 */
function xmlText(xml, tag) {
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
function abortReason(signal) {
  return signal?.reason ?? new DOMException('The upload was aborted', 'AbortError');
}

/** @param {any} body */
function messageOf(body) {
  const message = body?.message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : undefined;
}

/**
 * Wires every `<input type="file" data-direct-upload>` inside `root`: see direct-upload.d.ts.
 * `data-direct-upload="s3"` sends the file straight to the storage (`uploadFileToStorage`);
 * any other value, or none, to the app's upload endpoint (`uploadFile`).
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
      const toStorage = input.dataset.directUpload === 's3';
      try {
        const upload = toStorage ? uploadFileToStorage : uploadFile;
        const answer = await upload(file, {
          headers: options.headers,
          endpoint:
            input.dataset.endpoint ?? (toStorage ? options.storageEndpoint : options.endpoint),
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
