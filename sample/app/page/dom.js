// Small helpers of the sample page. Text from the server only ever goes into textContent and
// attributes: the page builds no markup from data.

/** An element with a test id, classes and text, and its children. */
export function element(tag, { testid, className, text } = {}, ...children) {
  const node = document.createElement(tag);
  if (testid) node.dataset.testid = testid;
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  node.append(...children);
  return node;
}

export function button(label, testid, onClick) {
  const node = element('button', { testid, text: label });
  node.type = 'button';
  node.addEventListener('click', onClick);
  return node;
}

/** Shows a message in an alert element, or hides it when the message is empty. */
export function say(node, message) {
  node.textContent = message;
  node.hidden = !message;
}

/**
 * A JSON request to the app: `{ json }` when it succeeded, `{ error }` with the server's message
 * otherwise (the library and the sample answer refusals as JSON with a `message`).
 */
export async function send(method, url, body) {
  let answer;
  try {
    // A request without a body must not say it carries JSON: Fastify refuses that with a 400.
    answer = await fetch(url, {
      method,
      headers: {
        Accept: 'application/json',
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    return { error: 'The server could not be reached.' };
  }
  const json = answer.status === 204 ? {} : await answer.json().catch(() => ({}));
  if (answer.ok) return { json };
  const message = Array.isArray(json.message) ? json.message.join('; ') : json.message;
  return { error: message ?? `HTTP ${answer.status}`, status: answer.status };
}

export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Calls `onFiles` with the files dropped on `target`, and marks it while they hover. */
export function acceptDrops(target, onFiles, accepts = () => true) {
  target.addEventListener('dragover', (event) => {
    if (!event.dataTransfer?.types.includes('Files') || !accepts(event)) return;
    event.preventDefault();
    target.classList.add('is-over');
  });
  target.addEventListener('dragleave', () => target.classList.remove('is-over'));
  target.addEventListener('drop', (event) => {
    target.classList.remove('is-over');
    const files = [...(event.dataTransfer?.files ?? [])];
    if (files.length === 0) return;
    event.preventDefault();
    onFiles(files);
  });
}

/** Calls `onFiles` with the files picked in `input`, then empties it so a file can be picked again. */
export function acceptPicks(input, onFiles) {
  input.addEventListener('change', () => {
    const files = [...(input.files ?? [])];
    input.value = '';
    if (files.length > 0) onFiles(files);
  });
}
