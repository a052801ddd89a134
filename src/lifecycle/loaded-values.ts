import type { ObjectLiteral } from 'typeorm';
import { isUploadedFile, listOf } from '../core/index.js';
import type { AttachmentDefinition } from '../persistence/index.js';

/**
 * What each entity object's attachment columns held when TypeORM loaded it (or when it was
 * last saved): the ids of the files, per property. A save compares the object with this to
 * tell what the app changed from what is merely an old copy of the row.
 */
export class LoadedValues {
  private readonly loaded = new WeakMap<object, Map<string, readonly string[]>>();

  remember(entity: ObjectLiteral, definitions: readonly AttachmentDefinition[]): void {
    const values = new Map<string, readonly string[]>();
    for (const { property, multiple } of definitions) {
      const value: unknown = entity[property];
      if (value === undefined) continue;
      const files = multiple ? listOf(value) : isUploadedFile(value) ? [value] : [];
      values.set(
        property,
        files.map((file) => file.id),
      );
    }
    this.loaded.set(entity, values);
  }

  /** The ids the property held, or undefined when this object was never loaded or saved. */
  of(entity: ObjectLiteral, property: string): readonly string[] | undefined {
    return this.loaded.get(entity)?.get(property);
  }
}
