import { Injectable } from '@nestjs/common';
import { AttachmentsConfig } from '../attachments-config.js';
import { AttachmentEvents } from '../events/attachment-events.js';
import { WorkOutbox } from './work-outbox.service.js';
import type { DeletePayload } from './work-payload.js';

/** Deletes files, batched per storage; repeating it deletes nothing more. */
@Injectable()
export class DeleteJob {
  constructor(
    private readonly config: AttachmentsConfig,
    private readonly outbox: WorkOutbox,
    private readonly events: AttachmentEvents,
  ) {}

  async run(data: DeletePayload & { workId: string }): Promise<number> {
    const work = await this.outbox.exists(data.workId);
    if (!work || work.status !== 'pending') return 0;
    await this.config.options.jobHooks?.onStep?.(
      'delete:before',
      data as unknown as Record<string, unknown>,
    );
    const byStorage = new Map<string, string[]>();
    for (const file of data.files) {
      const ids = byStorage.get(file.storage) ?? [];
      ids.push(file.id);
      byStorage.set(file.storage, ids);
    }
    for (const [storage, ids] of byStorage) await this.config.storage(storage).deleteMany(ids);
    await this.outbox.finish([data.workId]);
    await this.events.emit({
      type: 'deleted',
      entity: work.entity,
      recordId:
        work.recordId === null ? null : (JSON.parse(work.recordId) as Record<string, unknown>),
      reason: data.reason,
      files: data.files,
    });
    return data.files.length;
  }
}
