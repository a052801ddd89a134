import { createHash } from 'node:crypto';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMillis } from './epoch-millis.js';

/**
 * A cached file that a committed record has taken. The primary key makes an upload token
 * single-use even when two transactions attach it at the same moment. The key is a digest of
 * the file id rather than the id itself: a file id may be 1,024 characters long, and an index
 * on that many utf8mb4 characters is over InnoDB's limit of 3,072 bytes.
 */
@Entity('attachment_claims')
export class AttachmentClaim {
  /** SHA-256 of `fileId`, in hex (`claimKey()`). */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  fileKey!: string;

  @Column({ type: 'varchar', length: 1024 })
  fileId!: string;

  @Column({ type: 'bigint', transformer: epochMillis })
  claimedAt!: number;

  /** After this the token has expired, so the claim no longer guards anything. */
  @Column({ type: 'bigint', transformer: epochMillis })
  expiresAt!: number;
}

/** The primary key of the claim on a cached file. */
export function claimKey(fileId: string): string {
  return createHash('sha256').update(fileId, 'utf8').digest('hex');
}

/** The claim row that takes `fileId` from `now` until `ttl` later. */
export function claimOf(fileId: string, now: number, ttl: number): AttachmentClaim {
  const claim = new AttachmentClaim();
  claim.fileKey = claimKey(fileId);
  claim.fileId = fileId;
  claim.claimedAt = now;
  claim.expiresAt = now + ttl;
  return claim;
}
