import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMillis } from '../persistence/index.js';
import type { WorkPayload } from '../core/index.js';

export type WorkStatus = 'pending' | 'failed';

/**
 * The outbox: one row per piece of background work, written in the same transaction as the
 * change that implies it, and deleted by the job that finishes it. A pending row is checked
 * against the queue by the relay until it is done; a row with status `failed` is a final
 * failure the app can read and retry.
 */
@Entity('attachment_work')
@Index(['status', 'relayAt'])
// The sweep walks failures past their retention in this order. 16 + 64 utf8mb4 characters
// and a bigint: far inside InnoDB's key limit.
@Index(['status', 'failedAt', 'id'])
// 255 + 512 utf8mb4 characters are 3,068 bytes: inside InnoDB's 3,072-byte key limit.
@Index(['entity', 'recordId'])
export class AttachmentWork {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ type: 'varchar', length: 16 })
  kind!: WorkPayload['kind'];

  /** Entity class name, for finding the work of one record. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  entity!: string | null;

  /** JSON of the record's primary key. */
  @Column({ type: 'varchar', length: 512, nullable: true })
  recordId!: string | null;

  /**
   * The cached file a promotion reads: the sweep keeps cached files that pending or failed work
   * still names, and finds them through this indexed column, a batch at a time.
   */
  @Index()
  @Column({ type: 'varchar', length: 255, nullable: true })
  cachedFileId!: string | null;

  @Column({ type: 'simple-json' })
  payload!: WorkPayload;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status!: WorkStatus;

  @Column({ type: 'int', default: 0 })
  attempts!: number;

  @Column({ type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ type: 'bigint', transformer: epochMillis })
  createdAt!: number;

  /** When the job may run (a delayed deletion sets it in the future). */
  @Column({ type: 'bigint', transformer: epochMillis })
  availableAt!: number;

  /** When the relay next checks that the queue holds this work (and sends it if not). */
  @Column({ type: 'bigint', transformer: epochMillis })
  relayAt!: number;

  @Column({ type: 'bigint', nullable: true, transformer: epochMillis })
  failedAt!: number | null;
}
