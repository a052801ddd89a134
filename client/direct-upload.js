// @ts-check
/**
 * Direct uploads for nestjs-attachments, in the browser. Dependency-free ES module, no build
 * step: import it from `nestjs-attachments/client` or from the controller at
 * `/attachments/client.js`.
 *
 * A file is sent to the upload endpoint as soon as it is chosen; the form then carries only the
 * signed token the endpoint answers with, never the file's bytes.
 */

/** Rejection of `uploadFile` for an answer that is not 2xx, or for a failed connection. */
export class DirectUploadError extends Error {
  /**
   * @param {string} message the server's message, meant for people
   * @param {number} status HTTP status, 0 when no answer arrived
   * @param {string} code the server's stable error code (`file_too_large`, ...)
   */
  constructor(message, status, code) {
    super(message);
    this.name = 'DirectUploadError';
    this.status = status;
    this.code = code;
  }
}

/**
 * Uploads one file to the direct-upload endpoint. XMLHttpRequest rather than fetch, because
 * only XHR reports upload progress in every browser.
 *
 * @param {Blob} file
 * @param {import('./direct-upload.js').UploadFileOptions} [options]
 * @returns {Promise<import('./direct-upload.js').DirectUploadResponse>}
 */
export function uploadFile(file, options = {}) {
  const { endpoint = '/attachments/upload', entity, attachment, headers = {} } = options;
  const { onProgress, signal } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const url = new URL(endpoint, document.baseURI);
    // In the query, not the body: the server picks the attachment's limits before the file.
    if (entity) url.searchParams.set('entity', entity);
    if (attachment) url.searchParams.set('attachment', attachment);

    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.setRequestHeader('Accept', 'application/json');
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
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
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // A proxy's HTML error page: the status still says what happened.
      }
      if (xhr.status >= 200 && xhr.status < 300 && body) return resolve(body);
      const message = messageOf(body) ?? `Upload failed with HTTP ${xhr.status}`;
      reject(new DirectUploadError(message, xhr.status, body?.code ?? 'http_error'));
    });
    xhr.addEventListener('error', () => {
      settle();
      reject(new DirectUploadError('The upload could not reach the server', 0, 'network_error'));
    });
    xhr.addEventListener('abort', () => {
      settle();
      reject(abortReason(signal));
    });

    const form = new FormData();
    form.append('file', file, file instanceof File ? file.name : 'blob');
    xhr.send(form);
  });
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
      try {
        const answer = await uploadFile(file, {
          ...options,
          endpoint: input.dataset.endpoint ?? options.endpoint,
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
