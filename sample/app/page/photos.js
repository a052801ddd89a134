// The photos: a drop zone that turns each dropped image into a photo, and the list of cards.
import { acceptDrops, acceptPicks, send, say } from '/page/dom.js';
import { PhotoCard } from '/page/photo-card.js';

export class PhotoList {
  constructor({ dropzone, input, list, empty, error }, mode) {
    this.mode = mode;
    this.list = list;
    this.empty = empty;
    this.error = error;
    /** @type {Map<number, PhotoCard>} */
    this.cards = new Map();
    /** Events of photos whose card does not know its id yet: the save's answer can come later. */
    this.early = new Map();
    acceptDrops(dropzone, (files) => this.add(files));
    acceptPicks(input, (files) => this.add(files));
  }

  add(files) {
    for (const file of files) {
      const card = new PhotoCard(this);
      this.list.prepend(card.node);
      void card.upload(file, this.mode);
    }
    this.empty.hidden = true;
  }

  async load() {
    const answer = await send('GET', '/photos');
    if (answer.error) return say(this.error, answer.error);
    say(this.error, '');
    for (const photo of answer.json) {
      if (this.cards.has(photo.id)) continue;
      const card = new PhotoCard(this);
      this.list.append(card.node);
      card.fromRecord(photo);
    }
    this.empty.hidden = this.list.children.length > 0;
  }

  onEvent(message) {
    const card = this.cards.get(message.recordId);
    if (card) return card.onEvent(message);
    const waiting = this.early.get(message.recordId) ?? [];
    this.early.set(message.recordId, [...waiting, message]);
  }

  onSaved(card) {
    this.cards.set(card.id, card);
    for (const message of this.early.get(card.id) ?? []) card.onEvent(message);
    this.early.delete(card.id);
  }

  onGone(card) {
    this.cards.delete(card.id);
    this.empty.hidden = this.list.children.length > 0;
  }
}
