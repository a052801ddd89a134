import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { WorkPayload } from './work-payload.js';

const epochMillis = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};

export type WorkStatus = 'pending' | 'failed';

/**
 * The outbox: one row per piece of background work, written in the same transaction as the
 * change that implies it, and deleted by the job that finishes it. A row that outlives its job
 * is sent again by the relay; a row with status `failed` is a final failure the app can read.
 */
@Entity('attachment_work')
@Index(['status', 'createdAt'])
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
}
