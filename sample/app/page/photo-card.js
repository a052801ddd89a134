// One photo of the page: its image (cached original, placeholder, then thumbnail), its state and
// the timeline of its way through the library, fed by the server-sent events.
import { button, element, formatBytes, say, send } from '/page/dom.js';
import { progressOf, uploadToCache } from '/page/uploads.js';

const STATE_TEXT = {
  uploading: 'uploading',
  saving: 'saving',
  cached: 'processing',
  stored: 'stored',
  failed: 'failed',
  refused: 'refused',
};

/** The steps of a new photo, in the order they usually happen. */
const STEPS = [
  ['uploaded', 'Uploaded to the cache'],
  ['saved', 'Record saved'],
  ['promoted', 'Promoted to the store'],
  ['thumb', 'Thumbnail made'],
  ['deleted', 'Cached copy deleted'],
];

export class PhotoCard {
  /** @param {{ onSaved(card): void, onGone(card): void }} owner */
  constructor(owner) {
    this.owner = owner;
    this.id = null;
    this.started = performance.now();
    this.image = element('img', { testid: 'photo-image' });
    this.image.alt = '';
    this.image.hidden = true;
    this.image.addEventListener('load', () => this.image.classList.remove('is-loading'));
    this.showing = element('span', { testid: 'photo-showing', className: 'showing' });
    this.showing.hidden = true;
    this.frame = element('div', { className: 'frame' }, this.image, this.showing);
    this.title = element('strong', { testid: 'photo-title', className: 'card-title' });
    this.state = element('span', { testid: 'photo-state', className: 'state' });
    this.bar = element('progress', { testid: 'upload-progress', className: 'bar' });
    this.bar.max = 100;
    this.bar.value = 0;
    this.error = element('p', { testid: 'photo-error', className: 'file-error' });
    this.error.setAttribute('role', 'alert');
    this.error.hidden = true;
    this.timeline = element('ol', { testid: 'timeline', className: 'timeline' });
    this.earlier = element('p', {
      className: 'earlier',
      text: 'Saved before this page was loaded. Drop a new photo to watch its steps.',
    });
    this.earlier.hidden = true;
    this.steps = new Map(STEPS.map(([name, label]) => [name, this.stepItem(name, label)]));
    this.link = element('a', { testid: 'photo-link', text: 'Open original' });
    this.link.target = '_blank';
    this.link.hidden = true;
    this.remove = button('Delete', 'photo-delete', () => this.delete());
    this.remove.hidden = true;
    this.dismiss = button('Dismiss', 'photo-dismiss', () => this.gone());
    this.dismiss.hidden = true;
    const head = element('div', { className: 'card-head' }, this.title, this.state);
    const actions = element('div', { className: 'card-actions' }, this.link, this.remove);
    actions.append(this.dismiss);
    const body = element('div', {}, head, this.bar, this.error, this.timeline, this.earlier);
    body.append(actions);
    this.node = element('li', { testid: 'photo', className: 'card' }, this.frame, body);
  }

  stepItem(name, label) {
    const item = element('li', {}, element('span', { className: 'dot' }));
    item.dataset.step = name;
    item.dataset.state = 'pending';
    const detail = element('span', { className: 'step-detail' });
    item.append(element('span', { text: label }, detail), element('time'));
    this.timeline.append(item);
    return item;
  }

  /** Marks a step done, with its time since the file was dropped, and the next one as under way. */
  step(name, detail = '', state = 'done') {
    const item = this.steps.get(name);
    if (!item || item.dataset.state === 'done') return;
    item.dataset.state = state;
    item.querySelector('.step-detail').textContent = detail;
    const seconds = (performance.now() - this.started) / 1000;
    item.querySelector('time').textContent = `+${seconds.toFixed(2)} s`;
    const next = [...this.steps.values()].find((step) => step.dataset.state === 'pending');
    if (next && state === 'done') next.dataset.state = 'active';
  }

  setState(state) {
    this.state.dataset.state = state;
    this.state.textContent = STATE_TEXT[state] ?? state;
  }

  show(url, what) {
    if (!url || this.image.getAttribute('src') === url) return;
    this.image.classList.add('is-loading');
    this.image.src = url;
    this.image.hidden = false;
    this.showing.hidden = false;
    this.showing.textContent = what;
  }

  /** A file dropped on the page: upload it to the cache, then save the photo with its token. */
  async upload(file, mode) {
    this.title.textContent = titleOf(file.name);
    this.image.alt = this.title.textContent;
    this.setState('uploading');
    this.steps.get('uploaded').dataset.state = 'active';
    let cached;
    try {
      const onProgress = progressOf(this.node, this.bar);
      cached = await uploadToCache(file, {
        mode,
        entity: 'Photo',
        attachment: 'image',
        onProgress,
      });
    } catch (failure) {
      return this.refuse(failure instanceof Error ? failure.message : String(failure), 'uploaded');
    }
    const uploadTime = Math.round(performance.now() - this.started);
    this.step('uploaded', `${formatBytes(cached.size)} in ${uploadTime} ms`);
    this.show(cached.url, 'cached original');
    this.setState('saving');
    const saving = performance.now();
    const body = { title: this.title.textContent, image: cached.token };
    const saved = await send('POST', '/photos', body);
    if (saved.error) return this.refuse(saved.error, 'saved');
    this.bar.hidden = true;
    const saveTime = Math.round(performance.now() - saving);
    this.step('saved', `in ${saveTime} ms; the request carried only the token`);
    this.bind(saved.json);
  }

  /** A photo saved before this page was loaded: no timeline, its state and image only. */
  fromRecord(photo) {
    this.timeline.hidden = true;
    this.earlier.hidden = false;
    this.bar.hidden = true;
    this.title.textContent = photo.title;
    this.image.alt = photo.title;
    this.bind(photo);
    if (photo.image?.state === 'stored') void this.preview();
  }

  bind(photo) {
    this.id = photo.id;
    this.node.dataset.photoId = String(photo.id);
    this.remove.hidden = false;
    this.setState(photo.image ? photo.image.state : 'stored');
    this.show(photo.image?.url, 'cached original');
    this.owner.onSaved(this);
  }

  refuse(message, step) {
    this.setState('refused');
    this.bar.hidden = true;
    say(this.error, message);
    this.step(step, 'refused: nothing was kept', 'failed');
    this.frame.classList.add('is-refused');
    for (const item of this.steps.values()) {
      if (item.dataset.state === 'active') item.dataset.state = 'pending';
    }
    this.dismiss.hidden = false;
  }

  /** One step of the lifecycle, from the server-sent events. */
  onEvent(message) {
    if (message.type === 'promoted') {
      this.step('promoted', 'by a job, after the commit; the record names the stored file');
      this.setState('stored');
      void this.preview();
    } else if (message.type === 'derivative') {
      this.step(message.derivative, '480×360 WebP, made on its first request, then stored');
    } else if (message.type === 'deleted' && message.reason === 'promoted') {
      this.step('deleted', 'by a job, 3 s later: pages still showing it had time to switch');
    } else if (message.type === 'failed') {
      this.setState('failed');
      say(this.error, `${message.error} (the page keeps showing the cached file)`);
    }
  }

  /** Paints the placeholder, then the thumbnail, whose first request makes it. */
  async preview() {
    const answer = await send('GET', `/photos/${this.id}/preview`);
    if (answer.error) return;
    const { url, thumbnail, placeholder } = answer.json;
    this.link.href = url;
    this.link.hidden = false;
    if (placeholder) {
      this.frame.style.backgroundImage = `url("${placeholder}")`;
      this.showing.textContent = 'placeholder';
    }
    this.image.addEventListener('load', () => (this.showing.textContent = 'thumbnail'), {
      once: true,
    });
    this.show(thumbnail.url, placeholder ? 'placeholder' : 'loading thumbnail');
  }

  async delete() {
    this.remove.disabled = true;
    const answer = await send('DELETE', `/photos/${this.id}`);
    if (answer.error) {
      say(this.error, answer.error);
      this.remove.disabled = false;
      return;
    }
    this.gone();
  }

  gone() {
    this.node.remove();
    this.owner.onGone(this);
  }
}

/** The file's name without its extension: what the photo is called. */
function titleOf(filename) {
  const title = filename.replace(/\.[^.]+$/, '').trim() || 'Untitled';
  return title.slice(0, 200);
}
