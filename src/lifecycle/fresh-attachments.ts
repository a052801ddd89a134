import { Injectable } from '@nestjs/common';
import { AttachmentsConfig } from '../config/index.js';

interface Entry {
  count: number;
  expiresAt: number;
}

/**
 * The cached files `attach()` and `attachMany()` handed out in this process that no committed
 * save has taken yet. A save attaches a cached file only if it is here: any other cached value
 * in an entity is a copy of what the row held once (an object loaded before a promotion), and
 * the row wins. Kept by file id, so copies and clones of the entity keep their attachments;
 * counted, so a token attached twice before either save commits still meets the claim check.
 * Entries lapse with the token's lifetime.
 */
@Injectable()
export class FreshAttachments {
  private readonly entries = new Map<string, Entry>();
  private added = 0;

  constructor(private readonly config: AttachmentsConfig) {}

  add(fileId: string): void {
    const entry = this.entries.get(fileId);
    const expiresAt = Date.now() + this.config.tokenTtl;
    if (entry) Object.assign(entry, { count: entry.count + 1, expiresAt });
    else this.entries.set(fileId, { count: 1, expiresAt });
    if (++this.added % 256 === 0) this.prune();
  }

  has(fileId: string): boolean {
    const entry = this.entries.get(fileId);
    return !!entry && entry.expiresAt > Date.now();
  }

  /** A committed save took the file. */
  taken(fileId: string): void {
    const entry = this.entries.get(fileId);
    if (!entry) return;
    if (--entry.count <= 0) this.entries.delete(fileId);
  }

  private prune(): void {
    const now = Date.now();
    for (const [id, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(id);
  }
}
