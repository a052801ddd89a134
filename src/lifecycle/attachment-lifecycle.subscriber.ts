import { isDeepStrictEqual } from 'node:util';
import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type {
  EntitySubscriberInterface,
  InsertEvent,
  LoadEvent,
  ObjectLiteral,
  RemoveEvent,
  SoftRemoveEvent,
  TransactionCommitEvent,
  TransactionRollbackEvent,
  UpdateEvent,
  AfterQueryEvent,
} from 'typeorm';
import { AttachmentsConfig } from '../config/index.js';
import { isUploadedFile, listOf, TooManyFilesError, type UploadedFile } from '../core/index.js';
import type { AttachmentWork } from '../outbox/index.js';
import {
  attachmentsOf,
  readAttachmentColumns,
  type AttachmentDefinition,
} from '../persistence/index.js';
import { AttachmentWorkBuilder } from './attachment-work-builder.js';
import { checkDataSource } from './datasource-checks.js';
import { FreshAttachments } from './fresh-attachments.js';
import { reconcileList, type ListChanges } from './list-changes.js';
import { LoadedValues } from './loaded-values.js';
import { RecordHolds, type Release } from './record-holds.js';
import { resolveSingle } from './single-changes.js';
import { TransactionWork } from './transaction-work.js';

interface LockedValues {
  idMap: ObjectLiteral;
  /** Single attachments the app changed, with the file the row held under the lock. */
  replaced: Record<string, UploadedFile | null>;
  lists: Record<string, ListChanges>;
}

/**
 * Turns saves and removals of entities with attachments into outbox rows, in the same
 * transaction, and sends them to BullMQ only once the outermost transaction has committed.
 * Before an update or removal it re-reads the attachment columns under a row lock and decides
 * against what the row holds then, so an object loaded long ago never undoes a promotion or
 * another save, and the file it schedules for deletion is the one really being replaced.
 */
@Injectable()
export class AttachmentLifecycleSubscriber
  implements EntitySubscriberInterface, OnModuleInit, OnModuleDestroy
{
  private readonly locked = new WeakMap<object, LockedValues>();
  private readonly removing = new WeakMap<object, { idMap: ObjectLiteral; row: ObjectLiteral }>();
  private readonly loaded = new LoadedValues();
  private readonly holds = new RecordHolds();
  /** Holds taken before an entity's UPDATE or DELETE, released once it ran. */
  private readonly held = new WeakMap<object, Release>();

  constructor(
    private readonly config: AttachmentsConfig,
    private readonly work: TransactionWork,
    private readonly builder: AttachmentWorkBuilder,
    private readonly fresh: FreshAttachments,
  ) {}

  onModuleInit(): void {
    const dataSource = this.config.dataSource;
    checkDataSource(dataSource);
    // Registered by hand so Nest's instance (with its dependencies) is the one TypeORM calls.
    if (!dataSource.subscribers.includes(this)) dataSource.subscribers.push(this);
  }

  onModuleDestroy(): void {
    const subscribers = this.config.dataSource.subscribers;
    const index = subscribers.indexOf(this);
    if (index >= 0) subscribers.splice(index, 1);
  }

  afterLoad(entity: ObjectLiteral, event?: LoadEvent<ObjectLiteral>): void {
    const definitions = attachmentsOf(event?.metadata.target ?? entity.constructor);
    if (definitions.length > 0) this.loaded.remember(entity, definitions);
  }

  async afterInsert(event: InsertEvent<ObjectLiteral>): Promise<void> {
    const definitions = attachmentsOf(event.metadata.target);
    if (definitions.length === 0 || !event.entity) return;
    const idMap = event.metadata.getEntityIdMap(event.entity) ?? event.entityId ?? {};
    const work: AttachmentWork[] = [];
    for (const definition of definitions) {
      const value = event.entity[definition.property] as unknown;
      const files = definition.multiple ? listOf(value) : [value];
      if (definition.multiple) this.checkCount(definition, files.length);
      for (const file of files) {
        if (!this.isCached(file)) continue;
        await this.builder.claim(event.queryRunner, file);
        work.push(this.builder.promotion(event.metadata, idMap, definition.property, file));
      }
    }
    this.loaded.remember(event.entity, definitions);
    await this.work.record(event.queryRunner, work);
  }

  async beforeUpdate(event: UpdateEvent<ObjectLiteral>): Promise<void> {
    const entity = event.entity;
    const definitions = attachmentsOf(event.metadata.target);
    if (definitions.length === 0 || !entity) return;
    // Values that equal the row TypeORM loaded for this save are not written: nothing to decide.
    const touched = definitions.filter(
      ({ property }) =>
        entity[property] !== undefined &&
        !isDeepStrictEqual(entity[property], event.databaseEntity?.[property]),
    );
    if (touched.length === 0) return;
    const idMap = event.metadata.getEntityIdMap(event.databaseEntity ?? entity);
    if (!idMap) return;
    const properties = touched.map(({ property }) => property);
    const release = await this.holds.take(
      event.queryRunner,
      event.metadata,
      idMap,
      event.databaseEntity ?? entity,
    );
    try {
      const decided = await this.decideUpdate(event, entity, idMap, touched, properties);
      // Columns left as TypeORM loaded them are not written: nothing to wait for then.
      const writes = touched.some(
        ({ property }) => !isDeepStrictEqual(entity[property], event.databaseEntity?.[property]),
      );
      if (decided && writes) this.held.set(entity, release);
      else release();
    } catch (error) {
      release();
      throw error;
    }
  }

  private async decideUpdate(
    event: UpdateEvent<ObjectLiteral>,
    entity: ObjectLiteral,
    idMap: ObjectLiteral,
    touched: AttachmentDefinition[],
    properties: string[],
  ): Promise<boolean> {
    const row = await readAttachmentColumns(event.queryRunner, event.metadata, idMap, properties, {
      lock: true,
    });
    if (!row) return false;
    const decided: LockedValues = { idMap, replaced: {}, lists: {} };
    const isFresh = (file: UploadedFile) => this.fresh.has(file.id);
    for (const definition of touched) {
      const { property } = definition;
      const context = {
        loaded: this.loaded.of(entity, property),
        isFresh,
        cacheStorage: this.config.cacheStorage,
      };
      if (definition.multiple) {
        const changes = reconcileList(listOf(entity[property]), listOf(row[property]), context);
        this.checkCount(definition, changes.list.length);
        entity[property] = changes.list;
        decided.lists[property] = changes;
      } else {
        const current = asFile(row[property]);
        const change = resolveSingle(asFile(entity[property]), current, context);
        entity[property] = change.value;
        if (change.changed) decided.replaced[property] = current;
      }
    }
    this.locked.set(entity, decided);
    return true;
  }

  async afterUpdate(event: UpdateEvent<ObjectLiteral>): Promise<void> {
    const entity = event.entity;
    if (!entity) return;
    this.releaseHeld(entity);
    const definitions = attachmentsOf(event.metadata.target);
    if (definitions.length > 0) this.loaded.remember(entity, definitions);
    const locked = this.locked.get(entity);
    if (!locked) return;
    this.locked.delete(entity);
    const work: AttachmentWork[] = [];
    const replaced: { property: string; file: UploadedFile }[] = [];
    for (const [property, previous] of Object.entries(locked.replaced)) {
      const next = asFile(entity[property]);
      if (previous) replaced.push({ property, file: previous });
      if (this.isCached(next)) {
        await this.builder.claim(event.queryRunner, next);
        work.push(this.builder.promotion(event.metadata, locked.idMap, property, next));
      }
    }
    for (const [property, changes] of Object.entries(locked.lists)) {
      replaced.push(...changes.removed.map((file) => ({ property, file })));
      for (const file of changes.added) {
        await this.builder.claim(event.queryRunner, file);
        work.push(this.builder.promotion(event.metadata, locked.idMap, property, file));
      }
      const settled = await this.builder.listSettledByRemoval(
        event.queryRunner,
        event.metadata,
        locked.idMap,
        property,
        changes,
      );
      if (settled) work.push(settled);
    }
    if (replaced.length > 0) {
      work.push(this.builder.deletion(event.metadata, locked.idMap, replaced, 'replaced'));
    }
    await this.work.record(event.queryRunner, work);
  }

  beforeRemove(event: RemoveEvent<ObjectLiteral>): Promise<void> {
    return this.lockForRemoval(event);
  }

  afterRemove(event: RemoveEvent<ObjectLiteral>): Promise<void> {
    return this.recordRemoval(event);
  }

  beforeSoftRemove(event: SoftRemoveEvent<ObjectLiteral>): Promise<void> {
    return this.lockForRemoval(event);
  }

  afterSoftRemove(event: SoftRemoveEvent<ObjectLiteral>): Promise<void> {
    return this.recordRemoval(event);
  }

  afterTransactionCommit(event: TransactionCommitEvent): Promise<void> {
    if (!event.queryRunner.isTransactionActive) this.holds.releaseAll(event.queryRunner);
    return this.work.committed(event.queryRunner);
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    if (!event.queryRunner.isTransactionActive) this.holds.releaseAll(event.queryRunner);
    this.work.rolledBack(event.queryRunner);
  }

  /**
   * A failed statement ends its save without after-events: its holds go now, so a save the app
   * retries in the same transaction does not wait for them.
   */
  afterQuery(event: AfterQueryEvent): void {
    if (!event.success) this.holds.releaseAll(event.queryRunner);
  }

  private releaseHeld(entity: ObjectLiteral): void {
    const release = this.held.get(entity);
    if (!release) return;
    this.held.delete(entity);
    release();
  }

  private async lockForRemoval(
    event: RemoveEvent<ObjectLiteral> | SoftRemoveEvent<ObjectLiteral>,
  ): Promise<void> {
    const { queryRunner: runner, metadata, databaseEntity } = event;
    const entity = event.entity ?? databaseEntity;
    const properties = attachmentsOf(metadata.target).map(({ property }) => property);
    if (properties.length === 0 || !entity) return;
    const idMap = metadata.getEntityIdMap(entity);
    if (!idMap) return;
    const release = await this.holds.take(runner, metadata, idMap, databaseEntity ?? entity);
    try {
      const row = await readAttachmentColumns(runner, metadata, idMap, properties, { lock: true });
      if (!row) return release();
      this.removing.set(entity, { idMap, row });
      this.held.set(entity, release);
    } catch (error) {
      release();
      throw error;
    }
  }

  private async recordRemoval(
    event: RemoveEvent<ObjectLiteral> | SoftRemoveEvent<ObjectLiteral>,
  ): Promise<void> {
    const source = event.entity ?? event.databaseEntity;
    if (source) this.releaseHeld(source);
    const locked = source && this.removing.get(source);
    if (!source || !locked) return;
    this.removing.delete(source);
    const files = Object.entries(locked.row).flatMap(([property, value]: [string, unknown]) =>
      (Array.isArray(value) ? listOf(value) : isUploadedFile(value) ? [value] : []).map((file) => ({
        property,
        file,
      })),
    );
    if (files.length === 0) return;
    await this.work.record(event.queryRunner, [
      this.builder.deletion(event.metadata, locked.idMap, files, 'removed'),
    ]);
  }

  /** `maxCount` holds for the list the row will have, decided under the lock. */
  private checkCount(definition: AttachmentDefinition, count: number): void {
    const { maxCount } = definition.options;
    if (maxCount !== undefined && count > maxCount) throw new TooManyFilesError(maxCount);
  }

  private isCached(file: unknown): file is UploadedFile {
    return isUploadedFile(file) && file.storage === this.config.cacheStorage;
  }
}

function asFile(value: unknown): UploadedFile | null {
  return isUploadedFile(value) ? value : null;
}
