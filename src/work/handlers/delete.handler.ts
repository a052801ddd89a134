import { Injectable } from '@nestjs/common';
import { AttachmentsConfig } from '../../config/attachments-config.js';
import { AttachmentEvents } from '../../events/attachment-events.js';
import { WorkOutbox } from '../../outbox/work-outbox.service.js';
import type { DeletePayload } from '../../core/work-payload.js';

/**
 * Deletes files, batched per storage, and whole folders of derivatives; repeating it deletes
 * nothing more. Its event is emitted before the work ends, so a crash repeats it, never loses it.
 */
@Injectable()
export class DeleteJob {
  constructor(
    private readonly config: AttachmentsConfig,
    private readonly outbox: WorkOutbox,
    private readonly events: AttachmentEvents,
  ) {}

  async run(data: DeletePayload & { workId: string }): Promise<number> {
    const work = await this.outbox.pending(data.workId);
    if (!work) return 0;
    await this.config.options.jobHooks?.onStep?.(
      'delete:before',
      data as unknown as Record<string, unknown>,
    );
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
    await this.events.emit({
      type: 'deleted',
      id: data.workId,
      entity: work.entity,
      recordId:
        work.recordId === null ? null : (JSON.parse(work.recordId) as Record<string, unknown>),
      reason: data.reason,
      files: data.files,
    });
    await this.outbox.finish([data.workId]);
    return data.files.length;
  }
}
