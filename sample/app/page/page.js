// The sample page: the library's client uploads the file, this script sends the form as JSON
// and lists the photos. Text from the server only ever goes into textContent and attributes.
import { wireDirectUploads } from '/attachments/client.js';

const POLL_INTERVAL = 500;
const STATE_TEXT = { cached: 'processing', stored: 'stored', failed: 'failed', none: 'no image' };

const form = document.querySelector('[data-testid="photo-form"]');
const list = document.querySelector('[data-testid="photos"]');
const formError = document.querySelector('[data-testid="form-error"]');
let poll;

// Wired before the page's own submit listener: the client holds a submit until uploads end.
wireDirectUploads(document);

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  // `image` is the hidden input the client filled with the token, not the file input.
  const image = data.get('image');
  const body = { title: data.get('title'), ...(image ? { image } : {}) };
  const answer = await send('POST', '/photos', body);
  if (!answer) return;
  form.reset();
  await refresh();
});

/** Fetches JSON; shows the server's message and returns null when the request failed. */
async function send(method, url, body) {
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
    return showError('The server could not be reached.');
  }
  const json = answer.status === 204 ? {} : await answer.json().catch(() => ({}));
  if (!answer.ok) return showError(json.message ?? `HTTP ${answer.status}`);
  showError('');
  return json;
}

function showError(message) {
  formError.textContent = message;
  formError.hidden = !message;
  return null;
}

async function refresh() {
  clearTimeout(poll);
  const photos = await send('GET', '/photos');
  if (!photos) return;
  render(photos);
  // Promotion happens in a background job: ask again until no photo is still cached.
  if (photos.some((photo) => photo.image?.state === 'cached')) {
    poll = setTimeout(refresh, POLL_INTERVAL);
  }
}

/** Updates the list in place, so images already shown are not loaded again. */
function render(photos) {
  const items = new Map([...list.children].map((item) => [item.dataset.photoId, item]));
  const ordered = photos.map((photo) => {
    const item = items.get(String(photo.id)) ?? createItem(photo.id);
    updateItem(item, photo);
    return item;
  });
  list.replaceChildren(...ordered);
}

function createItem(id) {
  const item = element('li', 'photo');
  item.dataset.photoId = String(id);
  const remove = element('button', 'photo-delete');
  remove.type = 'button';
  remove.textContent = 'Delete';
  remove.addEventListener('click', async () => {
    remove.disabled = true;
    if (await send('DELETE', `/photos/${id}`)) await refresh();
    else remove.disabled = false;
  });
  const text = document.createElement('div');
  text.append(element('strong', 'photo-title'), document.createElement('br'));
  text.append(element('span', 'photo-state'));
  item.append(element('img', 'photo-image'), text, remove);
  return item;
}

function updateItem(item, photo) {
  const image = item.querySelector('[data-testid="photo-image"]');
  item.querySelector('[data-testid="photo-title"]').textContent = photo.title;
  item.querySelector('[data-testid="photo-state"]').textContent =
    STATE_TEXT[photo.image?.state ?? 'none'];
  image.alt = photo.title;
  image.hidden = !photo.image;
  // The URL changes once, from the cache to the store; only then is the image loaded again.
  if (photo.image && image.getAttribute('src') !== photo.image.url) image.src = photo.image.url;
}

function element(tag, testId) {
  const node = document.createElement(tag);
  node.dataset.testid = testId;
  return node;
}

await refresh();
