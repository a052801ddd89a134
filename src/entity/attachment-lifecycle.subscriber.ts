import { isDeepStrictEqual } from 'node:util';
import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { In } from 'typeorm';
import type {
  EntityMetadata,
  EntitySubscriberInterface,
  InsertEvent,
  ObjectLiteral,
  QueryRunner,
  RemoveEvent,
  SoftRemoveEvent,
  TransactionCommitEvent,
  TransactionRollbackEvent,
  UpdateEvent,
} from 'typeorm';
import { AttachmentsConfig } from '../attachments-config.js';
import {
  isUploadedFile,
  sameFile,
  withDerivatives,
  type UploadedFile,
} from '../core/uploaded-file.js';
import { AttachmentConfigurationError, TokenAlreadyUsedError } from '../errors/index.js';
import { AttachmentClaim } from '../jobs/attachment-claim.entity.js';
import { AttachmentWork } from '../jobs/attachment-work.entity.js';
import { WorkOutbox } from '../jobs/work-outbox.service.js';
import type { FileRef } from '../jobs/work-payload.js';
import { attachmentsOf } from './attachment-registry.js';
import { promotePayload } from './promote-payload.js';
import { listOf, reconcileList, type ListChanges } from './list-changes.js';
import { readAttachmentColumns } from './record-columns.js';
import { TransactionWork } from './transaction-work.js';

interface LockedValues {
  idMap: ObjectLiteral;
  values: Record<string, UploadedFile | null>;
  lists?: Record<string, ListChanges>;
}

/**
 * Turns saves and removals of entities with attachments into outbox rows, in the same
 * transaction, and sends them to BullMQ only once the outermost transaction has committed.
 * Before an update or removal it re-reads the attachment columns under a row lock, so the file
 * it schedules for deletion is the one really being replaced, even if a promotion wrote the
 * column after TypeORM loaded the entity.
 */
@Injectable()
export class AttachmentLifecycleSubscriber
  implements EntitySubscriberInterface, OnModuleInit, OnModuleDestroy
{
  private readonly locked = new WeakMap<object, LockedValues>();

  constructor(
    private readonly config: AttachmentsConfig,
    private readonly outbox: WorkOutbox,
    private readonly work: TransactionWork,
  ) {}

  onModuleInit(): void {
    const dataSource = this.config.dataSource;
    if (!dataSource.isInitialized) {
      throw new AttachmentConfigurationError(
        'AttachmentsModule: the DataSource must be initialized before the module starts',
      );
    }
    for (const entity of [AttachmentWork, AttachmentClaim]) {
      if (!dataSource.hasMetadata(entity)) {
        throw new AttachmentConfigurationError(
          `AttachmentsModule: add ${entity.name} to the DataSource's entities ` +
            '(spread `attachmentEntities` into the `entities` option)',
        );
      }
    }
    // Registered by hand so Nest's instance (with its dependencies) is the one TypeORM calls.
    if (!dataSource.subscribers.includes(this)) dataSource.subscribers.push(this);
  }

  onModuleDestroy(): void {
    const subscribers = this.config.dataSource.subscribers;
    const index = subscribers.indexOf(this);
    if (index >= 0) subscribers.splice(index, 1);
  }

  async afterInsert(event: InsertEvent<ObjectLiteral>): Promise<void> {
    const definitions = attachmentsOf(event.metadata.target);
    if (definitions.length === 0 || !event.entity) return;
    const idMap = event.metadata.getEntityIdMap(event.entity) ?? event.entityId ?? {};
    const work: AttachmentWork[] = [];
    for (const { property, multiple } of definitions) {
      const value = event.entity[property] as unknown;
      for (const file of multiple ? listOf(value) : [value]) {
        if (!this.isCached(file)) continue;
        await this.claim(event.queryRunner, file);
        work.push(this.promotion(event.metadata, idMap, property, file));
      }
    }
    await this.work.record(event.queryRunner, work);
  }

  async beforeUpdate(event: UpdateEvent<ObjectLiteral>): Promise<void> {
    const entity = event.entity;
    const definitions = attachmentsOf(event.metadata.target);
    if (definitions.length === 0 || !entity) return;
    const given = definitions
      .filter(({ multiple }) => !multiple)
      .map(({ property }) => property)
      .filter((property) => entity[property] !== undefined);
    const lists = definitions
      .filter(({ multiple, property }) => multiple && entity[property] !== undefined)
      .map(({ property }) => property)
      .filter((property) => !isDeepStrictEqual(entity[property], event.databaseEntity?.[property]));
    const changed = given.filter(
      (property) => !sameFile(asFile(entity[property]), asFile(event.databaseEntity?.[property])),
    );
    // Same file, other content: the object predates a job's write (derivatives added).
    const outdated = given.filter(
      (property) =>
        !changed.includes(property) &&
        !isDeepStrictEqual(entity[property], event.databaseEntity?.[property]),
    );
    if (changed.length === 0 && outdated.length === 0 && lists.length === 0) return;
    const idMap = event.metadata.getEntityIdMap(event.databaseEntity ?? entity);
    if (!idMap) return;
    const values = await readAttachmentColumns(
      event.queryRunner,
      event.metadata,
      idMap,
      [...changed, ...outdated, ...lists],
      { lock: true },
    );
    if (!values) return;
    const listChanges: Record<string, ListChanges> = {};
    for (const property of lists) {
      const row = listOf(values[property]);
      const wanted = listOf(entity[property]);
      const unknown = wanted.filter(
        (file) => this.isCached(file) && !row.some((held) => sameFile(held, file)),
      );
      const claimed = await this.claimedIds(event.queryRunner, unknown);
      listChanges[property] = reconcileList(wanted, row, claimed, this.config.cacheStorage);
      entity[property] = listChanges[property].list;
      delete values[property];
    }
    for (const property of outdated) {
      // The row is the truth for a file both agree on: writing the object's copy would drop
      // what jobs merged into it, and orphan those files.
      if (sameFile(asFile(entity[property]), values[property])) entity[property] = values[property];
      delete values[property];
    }
    for (const property of changed) {
      const next = asFile(entity[property]);
      // A cached file already claimed but no longer in the row was promoted (or replaced)
      // after this entity object was loaded: the object is stale, keep what the row holds.
      if (
        this.isCached(next) &&
        !sameFile(next, values[property]) &&
        (await this.isClaimed(event.queryRunner, next))
      ) {
        entity[property] = values[property];
        delete values[property];
      }
    }
    this.locked.set(entity, { idMap, values, lists: listChanges });
  }

  async afterUpdate(event: UpdateEvent<ObjectLiteral>): Promise<void> {
    const entity = event.entity;
    const locked = entity && this.locked.get(entity);
    if (!entity || !locked) return;
    this.locked.delete(entity);
    const work: AttachmentWork[] = [];
    const replaced: FileRef[] = [];
    for (const [property, previous] of Object.entries(locked.values)) {
      const next = asFile(entity[property]);
      if (sameFile(next, previous)) continue;
      if (previous) replaced.push(...withDerivatives(previous));
      if (this.isCached(next)) {
        await this.claim(event.queryRunner, next);
        work.push(this.promotion(event.metadata, locked.idMap, property, next));
      }
    }
    for (const [property, changes] of Object.entries(locked.lists ?? {})) {
      replaced.push(...changes.removed.flatMap(withDerivatives));
      for (const file of changes.added) {
        await this.claim(event.queryRunner, file);
        work.push(this.promotion(event.metadata, locked.idMap, property, file));
      }
    }
    if (replaced.length > 0)
      work.push(this.deletion(event.metadata, locked.idMap, replaced, 'replaced'));
    await this.work.record(event.queryRunner, work);
  }

  beforeRemove(event: RemoveEvent<ObjectLiteral>): Promise<void> {
    return this.lockForRemoval(
      event.queryRunner,
      event.metadata,
      event.entity ?? event.databaseEntity,
    );
  }

  afterRemove(event: RemoveEvent<ObjectLiteral>): Promise<void> {
    return this.recordRemoval(event);
  }

  beforeSoftRemove(event: SoftRemoveEvent<ObjectLiteral>): Promise<void> {
    return this.lockForRemoval(
      event.queryRunner,
      event.metadata,
      event.entity ?? event.databaseEntity,
    );
  }

  afterSoftRemove(event: SoftRemoveEvent<ObjectLiteral>): Promise<void> {
    return this.recordRemoval(event);
  }

  afterTransactionCommit(event: TransactionCommitEvent): Promise<void> {
    return this.work.committed(event.queryRunner);
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    this.work.rolledBack(event.queryRunner);
  }

  private async lockForRemoval(
    runner: QueryRunner,
    metadata: EntityMetadata,
    entity: ObjectLiteral | undefined,
  ): Promise<void> {
    const properties = attachmentsOf(metadata.target).map(({ property }) => property);
    if (properties.length === 0 || !entity) return;
    const idMap = metadata.getEntityIdMap(entity);
    if (!idMap) return;
    const values = await readAttachmentColumns(runner, metadata, idMap, properties, { lock: true });
    if (values) this.locked.set(entity, { idMap, values });
  }

  private async recordRemoval(
    event: RemoveEvent<ObjectLiteral> | SoftRemoveEvent<ObjectLiteral>,
  ): Promise<void> {
    const source = event.entity ?? event.databaseEntity;
    const locked = source && this.locked.get(source);
    if (!source || !locked) return;
    this.locked.delete(source);
    const files = Object.values(locked.values)
      .flatMap((value: unknown) => (Array.isArray(value) ? listOf(value) : [value]))
      .filter((file): file is UploadedFile => isUploadedFile(file))
      .flatMap(withDerivatives);
    if (files.length === 0) return;
    await this.work.record(event.queryRunner, [
      this.deletion(event.metadata, locked.idMap, files, 'removed'),
    ]);
  }

  private isCached(file: unknown): file is UploadedFile {
    return isUploadedFile(file) && file.storage === this.config.cacheStorage;
  }

  private async claimedIds(runner: QueryRunner, files: UploadedFile[]): Promise<Set<string>> {
    if (files.length === 0) return new Set();
    const claims = await runner.manager.findBy(AttachmentClaim, {
      fileId: In(files.map((file) => file.id)),
    });
    return new Set(claims.map((claim) => claim.fileId));
  }

  private async isClaimed(runner: QueryRunner, file: UploadedFile): Promise<boolean> {
    return (await runner.manager.countBy(AttachmentClaim, { fileId: file.id })) > 0;
  }

  private async claim(runner: QueryRunner, file: UploadedFile): Promise<void> {
    const now = Date.now();
    try {
      await runner.manager.insert(AttachmentClaim, {
        fileId: file.id,
        claimedAt: now,
        expiresAt: now + this.config.cacheTtl,
      });
    } catch (error) {
      throw Object.assign(new TokenAlreadyUsedError(file.id), { cause: error });
    }
  }

  private promotion(
    metadata: EntityMetadata,
    idMap: ObjectLiteral,
    property: string,
    file: UploadedFile,
  ): AttachmentWork {
    const payload = promotePayload(this.config, metadata, idMap, property, file);
    return this.outbox.create(payload, { entity: metadata.name, recordId: idMap });
  }

  private deletion(
    metadata: EntityMetadata,
    idMap: ObjectLiteral,
    files: FileRef[],
    reason: 'replaced' | 'removed',
  ): AttachmentWork {
    return this.outbox.create(
      { kind: 'delete', reason, files },
      { entity: metadata.name, recordId: idMap },
    );
  }
}

function asFile(value: unknown): UploadedFile | null {
  return isUploadedFile(value) ? value : null;
}
