import { Injectable } from '@nestjs/common';
import { AttachmentsConfig } from '../config/index.js';
import {
  type UploadedFile,
  validateFile,
  type FileRules,
  AttachmentError,
  TokenAlreadyUsedError,
  type FileMetadata,
  assertSafeFileId,
} from '../core/index.js';
import { checkStoredStructure, inspectStoredFile } from '../storage/index.js';
import { claimOf, insertClaim, isClaimed } from '../persistence/index.js';
import { type UploadClaim, verifyUploadClaim } from './upload-claims.js';

/**
 * What a cached file must pass before an entity takes it: a token's checks (signature,
 * uploader, single use), the file's metadata (signed in the token when this server measured
 * it, measured from the storage otherwise), and the attachment's rules. A file that breaks them
 * is deleted, once no save can have taken it.
 */
@Injectable()
export class CachedFileChecks {
  constructor(private readonly config: AttachmentsConfig) {}

  /**
   * The cached file a token (or a direct upload's signed key) names, checked: the signature,
   * the uploader, single use, and the attachment's rules on its metadata.
   */
  async fromToken(token: string, rules: FileRules, owner?: string): Promise<UploadedFile> {
    // A token, or the signed key a direct upload reported (Uppy's AwsS3 keeps only the key).
    const claim = verifyUploadClaim(this.config, token, owner);
    // Checked before any query: the id goes into SQL parameters and a storage path.
    assertSafeFileId(claim.id);
    const metadata = await this.metadataOf(claim);
    // A save may have claimed the file since the check above: delete it only once it is ours.
    // A token with a SHA-256 names bytes this server streamed through its probe, which checked
    // an image's structure already; any other file (a direct upload) is read to its end here.
    await this.validateOrDelete(claim.id, metadata, rules, {
      take: () => this.claimForDeletion(claim.id),
      wholeImage: !claim.sha256,
    });
    return { id: claim.id, storage: this.config.cacheStorage, metadata };
  }

  /**
   * The metadata of the cached file a token names, once no save is known to have claimed it.
   * A token from `cache()` carries what was measured as the bytes came in, and nothing can
   * have written the file since (no client is ever given a way to): it is taken as is, with no
   * look at the storage. A file the sweep may delete has an expired token, so a file missing
   * now was removed behind the library's back; its promotion then fails for good, visibly
   * (the attachment's state turns `failed`). Any other file is measured from the storage.
   */
  private async metadataOf(claim: UploadClaim): Promise<FileMetadata> {
    await this.assertUnclaimed(claim.id);
    const filename = claim.filename ?? null;
    const sha256 = claim.sha256 ? { sha256: claim.sha256 } : {};
    if (claim.measured) return { filename, ...claim.measured, ...sha256 };
    const cache = this.config.storage(this.config.cacheStorage);
    return { ...(await inspectStoredFile(cache, claim.id, filename)), ...sha256 };
  }

  /** The early, clear refusal of a token used already; the claim a save inserts is the rule. */
  private async assertUnclaimed(fileId: string): Promise<void> {
    if (await isClaimed(this.config.dataSource.manager, fileId)) {
      throw new TokenAlreadyUsedError(fileId);
    }
  }

  /**
   * Measures a file that arrived in the cache by another way (straight from the browser to the
   * storage) and applies the rules to it, reading an image to its end to check its structure;
   * a file that breaks them is deleted before the error is thrown. No token names it yet, so
   * nobody else can have attached it.
   */
  async measureDirectUpload(
    id: string,
    filename: string | null,
    rules: FileRules,
  ): Promise<UploadedFile> {
    const cache = this.config.storage(this.config.cacheStorage);
    const metadata = await inspectStoredFile(cache, id, filename);
    await this.validateOrDelete(id, metadata, rules, { wholeImage: true });
    return { id, storage: this.config.cacheStorage, metadata };
  }

  /**
   * A file that breaks the rules is deleted, once `take` (if given) has made it ours. With
   * `wholeImage`, an image is also read to its end through the structure check.
   */
  async validateOrDelete(
    id: string,
    metadata: UploadedFile['metadata'],
    rules: FileRules,
    options: { take?: () => Promise<boolean>; wholeImage?: boolean } = {},
  ) {
    const { take = async () => true, wholeImage = false } = options;
    try {
      validateFile(metadata, rules);
      if (wholeImage) await checkStoredStructure(this.config.storage(this.config.cacheStorage), id);
    } catch (error) {
      if (error instanceof AttachmentError && (await take())) {
        await this.config.storage(this.config.cacheStorage).delete(id);
      }
      throw error;
    }
  }

  /**
   * Takes a cached file the way a save does, with a claim row, so that no save can attach it
   * afterwards. False when the row cannot be written: a save holds the claim (the primary key
   * refuses a second one), or the database failed. The file is then left to that save, or to
   * the sweep, and the caller still gets its validation error.
   */
  private async claimForDeletion(fileId: string): Promise<boolean> {
    const now = Date.now();
    try {
      await insertClaim(this.config.dataSource.manager, claimOf(fileId, now, this.config.cacheTtl));
      return true;
    } catch {
      return false;
    }
  }
}
