import { Injectable, Logger } from '@nestjs/common';
import { In, LessThan } from 'typeorm';
import { AttachmentsConfig, ResumableUploadSweeps } from '../../config/index.js';
import { sameFile, listOf } from '../../core/index.js';
import { readColumnsNow, AttachmentClaim } from '../../persistence/index.js';
import { AttachmentWork } from '../../outbox/index.js';

const BATCH = 1000;

/** What one pass of the cache sweep did. */
export interface SweepResult {
  deletedCachedFiles: number;
  removedIncompleteUploads: number;
  /** Resumable (tus) uploads begun before the cache TTL and never finished. */
  removedResumableUploads: number;
  removedClaims: number;
  /** Failed work older than `failedWorkRetention` that could be dropped without loss. */
  droppedFailedWork: number;
}

/**
 * Deletes cached files nobody took within the cache TTL, a batch at a time: memory stays flat
 * however many files and outbox rows there are. A cached file that a promotion (pending or
 * failed) still reads is kept whatever its age: it is attached, or about to be. Only the cache
 * storage is touched, besides the unfinished resumable uploads registered with
 * `ResumableUploadSweeps`. Also drops claims whose tokens expired, and failed work past its
 * retention when nothing would be lost by it.
 */
@Injectable()
export class SweepHandler {
  private readonly logger = new Logger('Attachments');

  constructor(
    private readonly config: AttachmentsConfig,
    private readonly resumable: ResumableUploadSweeps,
  ) {}

  async run(now = Date.now()): Promise<SweepResult> {
    const cutoff = new Date(now - this.config.cacheTtl);
    const cache = this.config.storage(this.config.cacheStorage);
    let deletedCachedFiles = 0;
    let expired: string[] = [];
    const flush = async () => {
      const referenced = await this.referenced(expired);
      const unreferenced = expired.filter((id) => !referenced.has(id));
      await cache.deleteMany(unreferenced);
      deletedCachedFiles += unreferenced.length;
      expired = [];
    };
    // The storage may pass over files it knows are younger (by the time in their names) without
    // a look at each, so the pass costs what expired, not what the cache holds.
    for await (const file of cache.list(undefined, { modifiedBefore: cutoff })) {
      if (file.lastModified >= cutoff) continue;
      expired.push(file.id);
      if (expired.length >= BATCH) await flush();
    }
    await flush();

    const removedIncompleteUploads = (await cache.removeIncompleteUploads?.(cutoff)) ?? 0;
    const removedResumableUploads = await this.resumable.run(cutoff);
    const claims = await this.config.dataSource
      .getRepository(AttachmentClaim)
      .delete({ expiresAt: LessThan(now) });
    const result: SweepResult = {
      deletedCachedFiles,
      removedIncompleteUploads,
      removedResumableUploads,
      removedClaims: claims.affected ?? 0,
      droppedFailedWork: await this.dropOldFailures(now),
    };
    this.logger.log(`Cache sweep: ${JSON.stringify(result)}`);
    return result;
  }

  /** Which of these cached files a promotion, pending or failed, still reads. */
  private async referenced(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.config.dataSource.getRepository(AttachmentWork).find({
      select: { id: true, cachedFileId: true },
      where: { cachedFileId: In(ids) },
    });
    return new Set(rows.map((row) => row.cachedFileId!));
  }

  /**
   * Failed work past its retention, where dropping it loses nothing: a failed derivative (its
   * output, if any, goes with its original's folder), a failed delivery of an event, and a
   * failed promotion whose record no longer holds its cached file. A failed deletion, or a
   * failed promotion still attached, stays until it is retried. Read in the order of the
   * (status, failedAt, id) index from the oldest failure, a batch at a time after the last row
   * read: only rows past the retention are read, each once, and none that is younger.
   */
  private async dropOldFailures(now: number): Promise<number> {
    const repository = this.config.dataSource.getRepository(AttachmentWork);
    let dropped = 0;
    let after: { failedAt: number; id: string } | undefined;
    for (;;) {
      const query = repository
        .createQueryBuilder('work')
        .where('work.status = :status', { status: 'failed' })
        .andWhere('work.failedAt < :cutoff', { cutoff: now - this.config.failedWorkRetention })
        .orderBy('work.failedAt', 'ASC')
        .addOrderBy('work.id', 'ASC')
        .limit(BATCH);
      if (after) {
        // The range starts at the last failedAt read, so an index walks from there.
        query.andWhere('work.failedAt >= :at AND (work.failedAt > :at OR work.id > :id)', {
          at: after.failedAt,
          id: after.id,
        });
      }
      const rows = await query.getMany();
      if (rows.length === 0) return dropped;
      const last = rows.at(-1)!;
      after = { failedAt: last.failedAt!, id: last.id };
      const droppable: string[] = [];
      for (const row of rows) if (await this.losesNothing(row)) droppable.push(row.id);
      if (droppable.length > 0) {
        await repository.delete({ id: In(droppable), status: 'failed' });
        dropped += droppable.length;
      }
      if (rows.length < BATCH) return dropped;
    }
  }

  private async losesNothing(work: AttachmentWork): Promise<boolean> {
    const payload = work.payload;
    if (payload.kind === 'delete') return false;
    if (payload.kind !== 'promote') return true;
    const metadata = this.config.dataSource.getMetadata(payload.entity);
    const values = await readColumnsNow(this.config.dataSource, metadata, payload.recordId, [
      payload.attachment,
    ]);
    const value = values?.[payload.attachment];
    const files = payload.inList ? listOf(value) : value ? [value] : [];
    return !files.some((file) => sameFile(file, payload.file));
  }
}
