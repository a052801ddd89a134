// Albums: each one an `@Attachments()` list, changed by sending the whole list in order.
import { acceptDrops, acceptPicks, button, element, say, send } from '/page/dom.js';
import { progressOf, uploadToCache } from '/page/uploads.js';

const DRAGGED = 'application/x-album-photo';

export class AlbumList {
  constructor({ form, list, error }, mode) {
    this.mode = mode;
    this.list = list;
    this.error = error;
    /** @type {Map<number, AlbumView>} */
    this.albums = new Map();
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const title = new FormData(form).get('title');
      const created = await send('POST', '/albums', { title });
      if (created.error) return say(this.error, created.error);
      say(this.error, '');
      form.reset();
      this.show(created.json);
    });
  }

  async load() {
    const answer = await send('GET', '/albums');
    if (answer.error) return say(this.error, answer.error);
    for (const album of answer.json) this.show(album);
  }

  show(album) {
    const view = this.albums.get(album.id) ?? new AlbumView(this, album.id);
    if (!this.albums.has(album.id)) {
      this.albums.set(album.id, view);
      this.list.append(view.node);
    }
    view.render(album);
  }

  onEvent(message) {
    void this.albums.get(message.recordId)?.refresh();
  }

  forget(view) {
    this.albums.delete(view.id);
    view.node.remove();
  }
}

class AlbumView {
  constructor(owner, id) {
    this.owner = owner;
    this.id = id;
    this.dragging = false;
    this.deferred = null;
    this.keys = [];
    this.busy = false;
    this.name = element('h3', { testid: 'album-name' });
    this.count = element('span', { testid: 'album-count', className: 'album-count' });
    this.input = element('input', { testid: 'album-file', className: 'visually-hidden' });
    Object.assign(this.input, { type: 'file', multiple: true, accept: 'image/*' });
    const add = element('label', { className: 'button', text: 'Add photos' }, this.input);
    const remove = button('Delete album', 'album-delete', () => this.delete());
    const head = element('div', { className: 'album-head' }, this.name, this.count, add, remove);
    this.strip = element('ol', { testid: 'album-photos', className: 'strip' });
    this.uploads = element('ol', { className: 'strip' });
    this.uploads.hidden = true;
    this.error = element('p', { testid: 'album-error', className: 'file-error' });
    this.error.setAttribute('role', 'alert');
    this.error.hidden = true;
    this.node = element('article', { testid: 'album', className: 'album' }, head, this.strip);
    this.node.append(this.uploads, this.error);
    this.node.dataset.albumId = String(id);
    acceptPicks(this.input, (files) => this.add(files));
    acceptDrops(this.strip, (files) => this.add(files));
    this.strip.addEventListener('dragover', (event) => {
      if (event.dataTransfer?.types.includes(DRAGGED)) event.preventDefault();
    });
  }

  render(album) {
    // Replacing the tiles while one is dragged would lose the drag (the page redraws the album
    // as its photos are promoted): the latest state is drawn once the drag ends.
    if (this.dragging) {
      this.deferred = album;
      return;
    }
    this.name.textContent = album.title;
    this.count.textContent = `${album.photos.length} photo${album.photos.length === 1 ? '' : 's'}`;
    this.keys = album.photos.map((photo) => photo.key);
    const tiles = album.photos.map((photo, index) => this.tile(photo, index));
    if (tiles.length === 0) {
      tiles.push(element('li', { className: 'strip-empty', text: 'Drop photos here' }));
    }
    this.strip.replaceChildren(...tiles);
  }

  tile(photo, index) {
    const last = index === this.keys.length - 1;
    const image = element('img', { testid: 'album-photo-image' });
    const thumb = photo.derivatives.thumb;
    image.src = thumb?.ready ? thumb.url : photo.url;
    image.alt = photo.metadata.filename ?? '';
    image.draggable = false; // the tile is dragged, never the image as a file
    const state = photo.state === 'stored' ? (thumb?.ready ? '' : 'thumbnail…') : 'processing';
    const name = element('span', { testid: 'album-photo-name', text: photo.metadata.filename });
    const position = element('span', {
      className: 'tile-position',
      text: state || `#${index + 1}`,
    });
    const left = button('←', 'album-photo-left', () => this.move(index, index - 1));
    const right = button('→', 'album-photo-right', () => this.move(index, index + 1));
    const drop = button('✕', 'album-photo-remove', () => this.arrange(this.without(index)));
    left.disabled = index === 0;
    right.disabled = last;
    left.setAttribute('aria-label', 'Move earlier');
    right.setAttribute('aria-label', 'Move later');
    drop.setAttribute('aria-label', 'Remove from the album');
    const actions = element('div', { className: 'tile-actions' }, left, drop, right);
    const tile = element('li', { testid: 'album-photo', className: 'tile' }, image);
    tile.append(element('div', { className: 'tile-name' }, name, position), actions);
    tile.dataset.key = photo.key;
    tile.draggable = true;
    tile.addEventListener('dragstart', (event) => {
      event.dataTransfer.setData(DRAGGED, String(index));
      tile.classList.add('is-dragged');
      this.dragging = true;
    });
    tile.addEventListener('dragend', () => {
      tile.classList.remove('is-dragged');
      this.dragging = false;
      const deferred = this.deferred;
      this.deferred = null;
      if (deferred) this.render(deferred);
    });
    tile.addEventListener('drop', (event) => {
      const from = event.dataTransfer?.getData(DRAGGED);
      if (!from) return;
      event.preventDefault();
      event.stopPropagation();
      this.move(Number(from), index);
    });
    return tile;
  }

  without(index) {
    return this.keys.filter((_, at) => at !== index);
  }

  move(from, to) {
    if (to < 0 || to >= this.keys.length || from === to) return;
    const keys = this.without(from);
    keys.splice(to, 0, this.keys[from]);
    return this.arrange(keys);
  }

  /** Sends the list as it should be; the answer is the album as saved. */
  async arrange(entries) {
    this.setBusy(true);
    const answer = await send('PATCH', `/albums/${this.id}`, { photos: entries });
    this.setBusy(false);
    if (answer.error) return (say(this.error, answer.error), false);
    say(this.error, '');
    this.render(answer.json);
    return true;
  }

  setBusy(busy) {
    this.busy = busy;
    this.node.toggleAttribute('aria-busy', busy);
    for (const control of this.strip.querySelectorAll('button')) control.disabled ||= busy;
  }

  /** Uploads the files to the cache side by side, then adds them to the list in one PATCH. */
  async add(files) {
    this.uploads.hidden = false;
    const sent = await Promise.all(files.map((file) => this.upload(file)));
    const tokens = sent.filter((upload) => upload.token);
    if (tokens.length > 0 && (await this.arrange([...this.keys, ...tokens.map((u) => u.token)]))) {
      for (const upload of tokens) upload.tile.remove();
    }
    this.uploads.hidden = this.uploads.children.length === 0;
  }

  async upload(file) {
    const bar = element('progress', { className: 'bar' });
    bar.max = 100;
    bar.value = 0;
    const error = element('span', { testid: 'album-upload-error', className: 'file-error' });
    error.hidden = true;
    const tile = element('li', { testid: 'album-upload', className: 'tile pending' });
    tile.append(element('span', { text: file.name }), bar, error);
    tile.append(button('Dismiss', 'album-upload-dismiss', () => tile.remove()));
    this.uploads.append(tile);
    try {
      const onProgress = progressOf(tile, bar);
      const options = { mode: this.owner.mode, entity: 'Album', attachment: 'photos', onProgress };
      const { token } = await uploadToCache(file, options);
      return { token, tile };
    } catch (failure) {
      say(error, failure instanceof Error ? failure.message : String(failure));
      return { token: null, tile };
    }
  }

  async refresh() {
    if (this.busy) return;
    const answer = await send('GET', `/albums/${this.id}`);
    if (!answer.error) this.render(answer.json);
  }

  async delete() {
    const answer = await send('DELETE', `/albums/${this.id}`);
    if (answer.error) return say(this.error, answer.error);
    this.owner.forget(this);
  }
}
