import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMillis } from './epoch-millis.js';

/**
 * A cached file that a committed record has taken. The primary key makes an upload token
 * single-use even when two transactions attach it at the same moment.
 */
@Entity('attachment_claims')
export class AttachmentClaim {
  @PrimaryColumn({ type: 'varchar', length: 1024 })
  fileId!: string;

  @Column({ type: 'bigint', transformer: epochMillis })
  claimedAt!: number;

  /** After this the token has expired, so the claim no longer guards anything. */
  @Column({ type: 'bigint', transformer: epochMillis })
  expiresAt!: number;
}
