import { Injectable } from '@nestjs/common';
import { AttachmentsConfig } from '../../config/index.js';
import type { DeleteJobData } from '../../core/index.js';
import { WorkOutbox, type AttachmentWork } from '../../outbox/index.js';
import { EventDelivery } from '../event-delivery.js';
import { WorkHandler } from './work-handler.js';

/**
 * Deletes files, batched per storage, and whole folders of derivatives; repeating it deletes
 * nothing more. Its event is delivered before the work ends, so a crash repeats it, never loses
 * it.
 */
@Injectable()
export class DeleteHandler extends WorkHandler<DeleteJobData, number> {
  constructor(
    private readonly config: AttachmentsConfig,
    outbox: WorkOutbox,
    private readonly events: EventDelivery,
  ) {
    super(outbox);
  }

  protected async run(data: DeleteJobData, work: AttachmentWork): Promise<number> {
    await this.config.step('delete:before', data);
    const byStorage = new Map<string, Set<string>>();
    const add = (storage: string, id: string) => {
      const ids = byStorage.get(storage) ?? new Set<string>();
      byStorage.set(storage, ids.add(id));
    };
    for (const file of data.files) add(file.storage, file.id);
    for (const folder of data.folders ?? []) {
      for await (const file of this.config.storage(folder.storage).list(folder.id)) {
        add(folder.storage, file.id);
      }
    }
    for (const [storage, ids] of byStorage) {
      await this.config.storage(storage).deleteMany([...ids]);
    }
    await this.events.deliver({
      type: 'deleted',
      id: data.workId,
      entity: work.entity,
      recordId: work.recordId ? (JSON.parse(work.recordId) as Record<string, unknown>) : null,
      reason: data.reason,
      files: data.files,
    });
    await this.finish(data);
    return data.files.length;
  }
}
