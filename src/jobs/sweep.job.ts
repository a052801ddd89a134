import { Injectable, Logger } from '@nestjs/common';
import { LessThan } from 'typeorm';
import { AttachmentsConfig } from '../attachments-config.js';
import { AttachmentClaim } from './attachment-claim.entity.js';
import { AttachmentWork } from './attachment-work.entity.js';

const DELETE_BATCH = 1000;

export interface SweepResult {
  deletedCachedFiles: number;
  removedIncompleteUploads: number;
  removedClaims: number;
}

/**
 * Deletes cached files nobody took within the cache TTL. A cached file named by any outbox row
 * (pending or failed) is kept whatever its age: it is still attached, or about to be.
 */
@Injectable()
export class SweepJob {
  private readonly logger = new Logger('Attachments');

  constructor(private readonly config: AttachmentsConfig) {}

  async run(now = Date.now()): Promise<SweepResult> {
    const cutoff = new Date(now - this.config.cacheTtl);
    const cache = this.config.storage(this.config.cacheStorage);
    const referenced = await this.referencedCachedFiles();
    let deletedCachedFiles = 0;
    let batch: string[] = [];
    for await (const file of cache.list()) {
      if (file.lastModified >= cutoff || referenced.has(file.id)) continue;
      batch.push(file.id);
      if (batch.length >= DELETE_BATCH) {
        await cache.deleteMany(batch);
        deletedCachedFiles += batch.length;
        batch = [];
      }
    }
    await cache.deleteMany(batch);
    deletedCachedFiles += batch.length;

    let removedIncompleteUploads = 0;
    for (const storage of Object.values(this.config.options.storages)) {
      removedIncompleteUploads += (await storage.removeIncompleteUploads?.(cutoff)) ?? 0;
    }
    const claims = await this.config.dataSource
      .getRepository(AttachmentClaim)
      .delete({ expiresAt: LessThan(now) });
    const result = {
      deletedCachedFiles,
      removedIncompleteUploads,
      removedClaims: claims.affected ?? 0,
    };
    this.logger.log(`Cache sweep: ${JSON.stringify(result)}`);
    return result;
  }

  private async referencedCachedFiles(): Promise<Set<string>> {
    const cacheName = this.config.cacheStorage;
    const rows = await this.config.dataSource
      .getRepository(AttachmentWork)
      .find({ select: { id: true, payload: true } });
    const ids = new Set<string>();
    for (const { payload } of rows) {
      const files =
        payload.kind === 'promote'
          ? [payload.file]
          : payload.kind === 'delete'
            ? payload.files
            : [payload.original];
      for (const file of files) if (file.storage === cacheName) ids.add(file.id);
    }
    return ids;
  }
}
