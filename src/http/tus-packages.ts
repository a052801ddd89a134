import type { FileStore } from '@tus/file-store';
import type { Server } from '@tus/server';
import { AttachmentConfigurationError, isMissingPackage } from '../core/index.js';

/** The optional packages resumable uploads run on, loaded only when an app turns them on. */
export interface TusPackages {
  Server: typeof Server;
  FileStore: typeof FileStore;
}

/**
 * Loads `@tus/server` and `@tus/file-store`. They are optional peers, ESM-only: an app that does
 * not enable tus never loads them, and one that does but lacks them is told so at startup.
 */
export async function loadTusPackages(): Promise<TusPackages> {
  try {
    const [{ Server }, { FileStore }] = await Promise.all([
      import('@tus/server'),
      import('@tus/file-store'),
    ]);
    return { Server, FileStore };
  } catch (error) {
    if (!isMissingPackage(error)) throw error;
    throw new AttachmentConfigurationError(
      'AttachmentsModule: `upload.tus` is enabled, but `@tus/server` and `@tus/file-store` are not both installed; run `npm install @tus/server @tus/file-store` or turn `upload.tus` off',
    );
  }
}
