import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { InvalidFileIdError, assertSafeFileId } from '../core/index.js';
import { checkPathInside, isInside, realPathOrNull, type PathCheck } from './fs.utils.js';

/**
 * The folder a filesystem storage keeps its files in, and where ids lead in it: lexically, then
 * for real, so that neither an id nor a symlink planted in the tree reaches outside. The root's
 * own resolved path is found once it exists and kept: each check then looks only at the parts
 * of a path below the root, and the root itself is trusted to stay where it was.
 */
export class StorageRoot {
  private real?: string;

  constructor(readonly directory: string) {}

  /** Path of `id`, refused if it leaves the root by its text alone. */
  lexicalPath(id: string): string {
    assertSafeFileId(id);
    const file = path.join(this.directory, id);
    if (!isInside(this.directory, file, false)) {
      throw new InvalidFileIdError(id, 'it resolves outside the storage directory');
    }
    return file;
  }

  /** Path of `id`, refused if the deepest existing part of it leaves the root via a symlink. */
  async safePath(id: string): Promise<string> {
    return (await this.checkedPath(id)).file;
  }

  /** `safePath`, with what the check found of the file itself. */
  async checkedPath(id: string): Promise<PathCheck & { file: string }> {
    const file = this.lexicalPath(id);
    const check = await checkPathInside(this.directory, await this.resolved(), file);
    if (!check.inside) throw leadsOutside(id);
    return { ...check, file };
  }

  /** Refuses `folder` (which exists, and holds `id`) unless it really lies in the root. */
  async checkFolder(folder: string, id: string): Promise<void> {
    const realFolder = await fs.realpath(folder);
    const realRoot = await this.resolved();
    if (realRoot === null || !isInside(realRoot, realFolder, true)) throw leadsOutside(id);
  }

  /** The root's resolved path, or null while it does not exist. */
  private async resolved(): Promise<string | null> {
    this.real ??= (await realPathOrNull(this.directory)) ?? undefined;
    return this.real ?? null;
  }
}

function leadsOutside(id: string): InvalidFileIdError {
  return new InvalidFileIdError(id, 'it leads outside the storage directory via a symlink');
}
