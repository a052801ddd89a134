import { createHmac } from 'node:crypto';

/** The `Upload-Metadata` of a tus upload, as `@tus/server` parses it. */
export type TusMetadata = Record<string, string | null> | undefined;

/**
 * The metadata key where the server records who began an upload. Whatever a client sends
 * under it is replaced at creation; HEAD shows it, but only to that same uploader.
 */
export const OWNER_KEY = 'attachments-owner';

/** What an upload's metadata says it is for, in the keys tus-js-client and Uppy's Tus send. */
export interface DescribedUpload {
  entity?: string;
  attachment?: string;
  /** `filename` (tus-js-client's convention), else `name` (Uppy's). */
  filename?: string;
}

export function describeUpload(metadata: TusMetadata): DescribedUpload {
  const value = (key: string) => {
    const found = metadata?.[key];
    return typeof found === 'string' && found !== '' ? found : undefined;
  };
  return {
    entity: value('entity'),
    attachment: value('attachment'),
    filename: value('filename') ?? value('name'),
  };
}

/**
 * An uploader as the upload records it: a keyed hash, so the metadata neither shows the app's
 * user ids nor can be forged to name someone else.
 */
export function ownerTag(owner: string, secret: string): string {
  return createHmac('sha256', secret).update(`tus-owner\0${owner}`).digest('base64url');
}

/** The metadata to keep: the client's, with the owner key set by the server alone. */
export function withOwner(
  metadata: TusMetadata,
  tag: string | undefined,
): Record<string, string | null> {
  const kept: Record<string, string | null> = { ...metadata };
  delete kept[OWNER_KEY];
  if (tag !== undefined) kept[OWNER_KEY] = tag;
  return kept;
}
