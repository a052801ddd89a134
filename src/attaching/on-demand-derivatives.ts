import { Injectable, Logger } from '@nestjs/common';
import type { EntityMetadata } from 'typeorm';
import { AttachmentsConfig } from '../config/index.js';
import type { DerivativeUrlGrant, UploadedFile } from '../core/index.js';
import {
  derivativeDefinition,
  derivativeStem,
  type DerivativeProcessorRef,
} from '../derivatives/index.js';
import { attachmentOf, readColumnsNow } from '../persistence/index.js';
import { originalIn } from '../work/index.js';
import { DerivativeBusyError, DerivativeNotFoundError } from './on-demand-errors.js';
import { OnDemandOutput, type OnDemandTarget } from './on-demand-output.js';
import { MakingSlots } from './on-demand-slots.js';

/** A making under way, which every request for the same derivative joins. */
interface Making {
  answer: Promise<UploadedFile>;
}

/**
 * Makes `onDemand` derivatives for the endpoint of their signed URLs. A derivative already in
 * the column is answered as is. Otherwise it is made from the stored original at its
 * deterministic stem and written with the derive job's locked, conditional merge, so it stays
 * only while the record holds that original. In one process, concurrent requests for one
 * derivative share one making; across processes two makings write the same file and the merge
 * keeps one. Makings are bounded (`derivatives.onDemand`): a few at once, a short queue, a time
 * limit.
 */
@Injectable()
export class OnDemandDerivatives {
  private readonly logger = new Logger('Attachments');
  private readonly makings = new Map<string, Making>();
  private readonly slots: MakingSlots;

  constructor(
    private readonly config: AttachmentsConfig,
    private readonly output: OnDemandOutput,
  ) {
    this.slots = new MakingSlots(config.onDemand.concurrency, config.onDemand.queueLimit);
  }

  /** Makings that run and that wait for a slot, in this process. */
  get load(): { running: number; waiting: number } {
    return this.slots.load;
  }

  /**
   * The derivative a verified grant names, from the column or made now. DerivativeNotFoundError
   * when it is not an on-demand derivative, or the record no longer holds the original;
   * DerivativeBusyError when it cannot be made now.
   */
  async derivative(grant: DerivativeUrlGrant): Promise<UploadedFile> {
    const { metadata, processor, inList } = this.declared(grant);
    const recordId = recordIdOf(grant);
    const current = await this.heldOriginal(grant, metadata, recordId, inList);
    const made = current.derivatives?.[grant.name];
    if (made) return made;
    const target: OnDemandTarget = {
      metadata,
      recordId,
      attachment: grant.attachment,
      name: grant.name,
      original: { id: current.id, storage: current.storage, metadata: current.metadata },
      stem: derivativeStem(current, grant.name),
      inList,
    };
    const key = JSON.stringify([current.storage, current.id, grant.name]);
    let making = this.makings.get(key);
    if (!making) {
      // A making that ended since the read above has written it: read again before making.
      const madeMeanwhile = async () =>
        (await this.heldOriginal(grant, metadata, recordId, inList)).derivatives?.[grant.name];
      making = this.start(key, target, madeMeanwhile, processor);
      this.makings.set(key, making);
    }
    return making.answer;
  }

  /**
   * The column's file (for a list, its element), while it is still the stored original the
   * grant names.
   */
  private async heldOriginal(
    grant: DerivativeUrlGrant,
    metadata: EntityMetadata,
    recordId: Record<string, unknown>,
    inList: boolean,
  ): Promise<UploadedFile> {
    const values = await readColumnsNow(this.config.dataSource, metadata, recordId, [
      grant.attachment,
    ]);
    const original = { id: grant.file, storage: grant.storage };
    const current = originalIn(values?.[grant.attachment], { original, inList });
    if (!current || current.storage === this.config.cacheStorage) {
      throw new DerivativeNotFoundError(
        'The record no longer holds the file this derivative URL was made for',
      );
    }
    return current;
  }

  /**
   * Starts a making, refused at once when the slots and their queue are full. It stays in the
   * map until its processor ends, past its time limit too, so a second making never writes the
   * same file while the first may still clean it up.
   */
  private start(
    key: string,
    target: OnDemandTarget,
    madeMeanwhile: () => Promise<UploadedFile | undefined>,
    processor: DerivativeProcessorRef,
  ): Making {
    const slot = this.slots.reserve();
    let gaveUp = false;
    const work = (async () => {
      await slot.ready;
      try {
        if (gaveUp) return null;
        const made = await madeMeanwhile();
        if (made) return made;
        return await this.output.make(processor, target, () => gaveUp);
      } finally {
        slot.release();
      }
    })();
    const { timeout } = this.config.onDemand;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        gaveUp = true;
        const retryAfter = Math.max(1, Math.ceil(timeout / 1000));
        reject(
          new DerivativeBusyError(`The derivative took longer than ${timeout} ms`, retryAfter),
        );
      }, timeout);
      timer.unref(); // a making under way never keeps a closing process alive
    });
    const answer = Promise.race([work, late]).then((made) => {
      // Only a making that gave up ends without a file, and its timer has answered.
      if (!made) throw new DerivativeBusyError('The derivative is not ready', 1);
      return made;
    });
    void work
      .catch((error: unknown) => {
        // Its requests were answered with the time limit: the failure is told here, or nowhere.
        if (gaveUp) this.logger.warn(`A late on-demand derivative failed: ${error}`);
      })
      .finally(() => {
        clearTimeout(timer);
        this.makings.delete(key);
      });
    // Every request that joins awaits `answer`; this keeps an unawaited rejection quiet.
    answer.catch(() => undefined);
    return { answer };
  }

  /** The entity and processor a grant names, if that derivative is declared `onDemand`. */
  private declared(grant: DerivativeUrlGrant): {
    metadata: EntityMetadata;
    processor: DerivativeProcessorRef;
    /** The attachment is an `@Attachments()` list: the original is one of its elements. */
    inList: boolean;
  } {
    const metadata = this.config.dataSource.entityMetadatas.find(
      (entity) => entity.name === grant.entity,
    );
    const definition = metadata && attachmentOf(metadata.target, grant.attachment);
    const derivatives = definition?.options.derivatives ?? {};
    const entry = Object.hasOwn(derivatives, grant.name) ? derivatives[grant.name] : undefined;
    const declared = entry && derivativeDefinition(entry);
    if (!metadata || !declared?.onDemand) {
      throw new DerivativeNotFoundError(
        `${grant.entity}.${grant.attachment} declares no on-demand derivative "${grant.name}"`,
      );
    }
    return { metadata, processor: declared.processor, inList: definition?.multiple === true };
  }
}

/** The record id the grant signed, as an id map. */
function recordIdOf(grant: DerivativeUrlGrant): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(grant.record);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new DerivativeNotFoundError('The derivative URL names no record');
  }
  return parsed as Record<string, unknown>;
}
