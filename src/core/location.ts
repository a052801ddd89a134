import { posix } from 'node:path';
import type { UploadedFile } from './uploaded-file.js';

/** What a location strategy knows when it places a file in the permanent storage. */
export interface LocationContext {
  /** Entity class name in kebab case, e.g. `user-profile`. */
  entityName: string;
  /** Primary key values joined with `-`, made safe for paths. */
  recordId: string;
  /** Property name of the attachment. */
  attachment: string;
  /** The cached file being promoted. */
  file: UploadedFile;
}

/**
 * Returns the folder (key prefix) for a promoted file; the cached file's unique basename is
 * appended, so a retried promotion writes to the same key and never leaves a copy behind.
 */
export type LocationFunction = (context: LocationContext) => string;

/**
 * `record`: `<entity>/<id>/<attachment>/<basename>` (the default); `flat`: `<basename>`;
 * `filename`: `<entity>/<id>/<attachment>/<unique id>/<original filename>`, which keeps the name
 * users gave the file in its key (the unique folder keeps keys apart); or a function returning
 * the folder.
 */
export type LocationStrategy = 'record' | 'flat' | 'filename' | LocationFunction;

export function storedFileId(strategy: LocationStrategy, context: LocationContext): string {
  const basename = posix.basename(context.file.id);
  if (strategy === 'flat') return basename;
  if (strategy === 'filename') {
    const folder = `${context.entityName}/${context.recordId}/${context.attachment}`;
    const unique = basename.replace(/\.[^.]*$/, '');
    return `${folder}/${unique}/${context.file.metadata.filename ?? basename}`;
  }
  const folder =
    strategy === 'record'
      ? `${context.entityName}/${context.recordId}/${context.attachment}`
      : strategy(context).replace(/^\/+|\/+$/g, '');
  return folder ? `${folder}/${basename}` : basename;
}

export function kebabCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

/** A record id that cannot add or escape path segments. */
export function pathSafeRecordId(idMap: Record<string, unknown>): string {
  return Object.values(idMap)
    .map((value) => String(value).replace(/[^A-Za-z0-9_.-]/g, '_'))
    .join('-')
    .replace(/^\.+/, '_');
}
