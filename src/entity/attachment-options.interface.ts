import type { ColumnType } from 'typeorm';
import type { LocationStrategy } from '../core/location.js';

export interface AttachmentOptions {
  /** Storage the file is promoted to. Default: the module's `storeStorage` (`store`). */
  storage?: string;
  /** Largest accepted file, in bytes, measured on the stored bytes. */
  maxSize?: number;
  /** Accepted MIME types (judged from the bytes), with `type/*` wildcards. */
  allowedTypes?: readonly string[];
  /** Where the promoted file goes. Default `record`: `<entity>/<id>/<attachment>/<file>`. */
  location?: LocationStrategy;
  /** Column type. Default `jsonb` (PostgreSQL, and SQLite in TypeORM 1.x). */
  columnType?: ColumnType;
  /** Column name, when it differs from the property name. */
  columnName?: string;
}

/** An `@Attachment()` property as the library sees it. */
export interface AttachmentDefinition {
  property: string;
  options: AttachmentOptions;
}
