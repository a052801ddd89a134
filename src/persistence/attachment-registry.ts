import type { DataSource } from 'typeorm';
import type { AttachmentDefinition } from './attachment-options.js';

// Keyed by the class that declares the property; subclasses inherit through the prototype chain.
const definitions = new Map<object, Map<string, AttachmentDefinition>>();

export function registerAttachment(target: object, definition: AttachmentDefinition): void {
  let forClass = definitions.get(target);
  if (!forClass) {
    forClass = new Map();
    definitions.set(target, forClass);
  }
  forClass.set(definition.property, definition);
}

/** Every attachment of an entity class, including inherited ones (subclass wins). */
export function attachmentsOf(entityClass: unknown): AttachmentDefinition[] {
  const found = new Map<string, AttachmentDefinition>();
  let current: unknown = entityClass;
  while (typeof current === 'function' && current !== Function.prototype) {
    for (const [property, definition] of definitions.get(current) ?? []) {
      if (!found.has(property)) found.set(property, definition);
    }
    current = Object.getPrototypeOf(current);
  }
  return [...found.values()];
}

export function attachmentOf(
  entityClass: unknown,
  property: string,
): AttachmentDefinition | undefined {
  return attachmentsOf(entityClass).find((definition) => definition.property === property);
}

/** The options of an attachment, by entity name as TypeORM knows it; none when undeclared. */
export function attachmentOptionsOf(
  dataSource: DataSource,
  entity: string,
  attachment: string,
): AttachmentDefinition['options'] {
  return attachmentOf(dataSource.getMetadata(entity).target, attachment)?.options ?? {};
}
