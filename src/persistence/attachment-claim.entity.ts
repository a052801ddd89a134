import { createHash } from 'node:crypto';
import { Column, Entity, type EntityManager, Index, PrimaryColumn } from 'typeorm';
import { epochMillis } from './epoch-millis.js';
import { insertRows, rowExists } from './sql/rows.js';

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

  /**
   * After this the token has expired, so the claim no longer guards anything. Indexed: the
   * sweep deletes the expired claims by it, which without an index reads the whole table.
   */
  @Index()
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

/*
 * Both run on every attach() and save() of a token, as plain statements: the query builder
 * costs about as much again as the round trip itself, and its insert announces the row to every
 * entity subscriber.
 */

/** Whether a claim on `fileId` exists (in the manager's transaction, if it has one). */
export function isClaimed(manager: EntityManager, fileId: string): Promise<boolean> {
  const metadata = manager.connection.getMetadata(AttachmentClaim);
  return rowExists(manager, { metadata, match: { fileKey: claimKey(fileId) } });
}

/** Inserts the claim; fails, as the primary key refuses it, when the file is claimed already. */
export function insertClaim(manager: EntityManager, claim: AttachmentClaim): Promise<void> {
  return insertRows(manager, manager.connection.getMetadata(AttachmentClaim), [claim]);
}
