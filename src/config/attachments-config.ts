import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Inject, Injectable } from '@nestjs/common';
import type { DefaultJobOptions } from 'bullmq';
import type { DataSource } from 'typeorm';
import { ATTACHMENTS_MODULE_OPTIONS } from './attachments.module-definition.js';
import { AttachmentConfigurationError, DIMENSION_RULES, type FileRules } from '../core/index.js';
import type {
  AttachmentsModuleOptions,
  AttachmentsOnDemandOptions,
  AttachmentsRequest,
  AttachmentsUploadOptions,
  AttachmentsWorkerOptions,
  JobStep,
  JobStepData,
} from './attachments-module-options.js';
import { cacheOverlap, type Storage } from '../storage/index.js';
import {
  describeConnection,
  hasHashTag,
  isClusterConnection,
  resolveConnection,
  type AttachmentsRedisConnection,
  type ResolvedConnection,
} from './redis-connection.js';

const HOUR = 60 * 60 * 1000;

/** How long the rest of a refused request's body is read before its connection is closed. */
export interface DrainBounds {
  readonly maxBytes: number;
  readonly timeout: number;
}

/** `upload.maxPixels` when it is not given: 100 megapixels. */
export const DEFAULT_MAX_PIXELS = 100_000_000;

/** `upload.drain` when it is not given. */
export const DEFAULT_DRAIN: DrainBounds = { maxBytes: 64 * 1024 * 1024, timeout: 10_000 };

/** `derivatives.onDemand` with its defaults. */
export type OnDemandSettings = Readonly<Required<AttachmentsOnDemandOptions>>;

/** `upload.tus` resolved: null when resumable uploads are off. */
export interface TusSettings {
  readonly directory: string;
}

/** The module options with defaults applied and checked once, at startup. */
@Injectable()
export class AttachmentsConfig {
  readonly cacheStorage: string;
  readonly storeStorage: string;
  readonly tokenTtl: number;
  readonly cacheTtl: number;
  readonly cacheDeleteDelay: number;
  readonly worker: Required<AttachmentsWorkerOptions> | null;
  readonly relayInterval: number;
  readonly relayAfter: number;
  readonly sendTimeout: number;
  readonly sweepInterval: number;
  readonly failedWorkRetention: number;
  readonly jobOptions: DefaultJobOptions;
  readonly uploadMaxSize: number;
  readonly uploadMaxPixels: number;
  /** The rules of uploads that name no attachment; null when such uploads are refused. */
  readonly unnamedUploads: Readonly<FileRules> | null;
  readonly uploadDrain: DrainBounds;
  readonly uploadIdleTimeout: number;
  readonly tus: TusSettings | null;
  readonly signedStorages: ReadonlySet<string>;
  readonly signedUrlTtl: number;
  readonly onDemand: OnDemandSettings;
  readonly dataSource: DataSource;
  readonly secret: string;
  /** The Redis connection as given, what it describes, and the BullMQ key prefix. */
  readonly connection: AttachmentsRedisConnection;
  readonly redis: ResolvedConnection;
  readonly queuePrefix: string | undefined;
  private readonly storages: Readonly<Record<string, Storage>>;
  private readonly hooks: AttachmentsModuleOptions['jobHooks'];
  private readonly owner: AttachmentsUploadOptions['owner'];

  constructor(@Inject(ATTACHMENTS_MODULE_OPTIONS) options: AttachmentsModuleOptions) {
    this.dataSource = options.dataSource;
    this.secret = options.secret;
    this.storages = options.storages;
    this.connection = options.connection;
    this.redis = resolveConnection(options.connection ?? {});
    // BullMQ's own default, tagged, so that a cluster works without one.
    this.queuePrefix =
      options.queuePrefix ?? (isClusterConnection(this.redis) ? '{bull}' : undefined);
    this.hooks = options.jobHooks;
    this.owner = options.upload?.owner;
    this.cacheStorage = options.cacheStorage ?? 'cache';
    this.storeStorage = options.storeStorage ?? 'store';
    this.tokenTtl = options.tokenTtl ?? 6 * HOUR;
    this.cacheTtl = options.cacheTtl ?? 24 * HOUR;
    this.cacheDeleteDelay = options.cacheDeleteDelay ?? 60_000;
    this.relayInterval = options.relay?.interval ?? 10_000;
    this.relayAfter = options.relay?.after ?? 30_000;
    this.sendTimeout = options.sendTimeout ?? 2000;
    this.sweepInterval = options.sweepInterval ?? HOUR;
    this.failedWorkRetention = options.failedWorkRetention ?? 30 * 24 * HOUR;
    this.jobOptions = {
      attempts: 8,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { age: HOUR, count: 1000 },
      removeOnFail: { age: 7 * 24 * HOUR },
      ...options.jobOptions,
    };
    this.uploadMaxSize = options.upload?.maxSize ?? 100 * 1024 * 1024;
    this.uploadMaxPixels = options.upload?.maxPixels ?? DEFAULT_MAX_PIXELS;
    const unnamed = options.upload?.unnamed;
    this.unnamedUploads = unnamed
      ? {
          allowedTypes: unnamed.allowedTypes,
          maxSize: unnamed.maxSize ?? this.uploadMaxSize,
          allowEmpty: unnamed.allowEmpty ?? false,
          maxPixels: unnamed.maxPixels ?? this.uploadMaxPixels,
        }
      : null;
    this.uploadDrain = { ...DEFAULT_DRAIN, ...options.upload?.drain };
    this.uploadIdleTimeout = options.upload?.idleTimeout ?? 30_000;
    this.tus = tusSettings(options.upload?.tus);
    this.signedStorages = new Set(options.signedStorages ?? []);
    this.signedUrlTtl = options.signedUrlTtl ?? 3600;
    this.onDemand = {
      concurrency: 2,
      queueLimit: 20,
      timeout: 30_000,
      response: 'serve',
      ...options.derivatives?.onDemand,
    };
    const worker = options.worker ?? true;
    this.worker =
      worker === false
        ? null
        : {
            // SQLite has one writer: parallel jobs would only queue behind each other's writes.
            concurrency: options.dataSource?.options.type === 'better-sqlite3' ? 1 : 5,
            lockDuration: 30_000,
            stalledInterval: 30_000,
            maxStalledCount: 1,
            ...(worker === true ? {} : worker),
          };
    this.check(options.upload);
  }

  /** Calls the `jobHooks.onStep` hook, if any, at a step of a job. */
  async step(step: JobStep, data: JobStepData): Promise<void> {
    await this.hooks?.onStep?.(step, data);
  }

  /**
   * The rules an attachment's options give a file, with the module's defaults where the
   * attachment sets none (`upload.maxPixels`); empty files are refused unless it allows them.
   */
  rulesOf(options: Readonly<FileRules>): FileRules {
    const rules: FileRules = {
      maxSize: options.maxSize,
      allowedTypes: options.allowedTypes,
      allowEmpty: options.allowEmpty ?? false,
      maxPixels: options.maxPixels ?? this.uploadMaxPixels,
    };
    // Only those the attachment sets: most have none, and no module default applies.
    for (const rule of DIMENSION_RULES) {
      if (options[rule] !== undefined) rules[rule] = options[rule];
    }
    return rules;
  }

  /** Who is uploading, per `upload.owner`, or undefined. */
  uploadOwner(request: AttachmentsRequest): Promise<string | undefined> {
    return Promise.resolve(this.owner?.(request));
  }

  /** Where Redis is reached (`host:port`, the sentinels or the cluster's nodes), for messages. */
  get redisAddress(): string {
    return describeConnection(this.redis);
  }

  storage(name: string): Storage {
    const storage = this.storages[name];
    if (!storage) {
      throw new AttachmentConfigurationError(
        `Unknown storage "${name}"; configured: ${Object.keys(this.storages).join(', ')}`,
      );
    }
    return storage;
  }

  /** The names of the configured storages, in the order the options list them. */
  get storageNames(): string[] {
    return Object.keys(this.storages);
  }

  hasStorage(name: string): boolean {
    return Object.hasOwn(this.storages, name);
  }

  private check(upload: AttachmentsUploadOptions | undefined): void {
    const fail = (message: string): never => {
      throw new AttachmentConfigurationError(`AttachmentsModule: ${message}`);
    };
    if (!this.dataSource) fail('`dataSource` is required');
    if (typeof this.secret !== 'string' || this.secret.length < 32) {
      fail('`secret` must be a string of at least 32 characters');
    }
    for (const name of [this.cacheStorage, this.storeStorage]) {
      if (!this.hasStorage(name)) fail(`no storage named "${name}" in \`storages\``);
    }
    for (const name of this.signedStorages) {
      if (!this.hasStorage(name))
        fail(`\`signedStorages\` names "${name}", which is not in \`storages\``);
    }
    if (this.cacheStorage === this.storeStorage) {
      fail('the cache and store storages must be different storages');
    }
    const overlap = cacheOverlap(this.storages, this.cacheStorage);
    if (overlap) fail(overlap);
    if (
      isClusterConnection(this.redis) &&
      this.queuePrefix !== undefined &&
      !hasHashTag(this.queuePrefix)
    ) {
      fail(
        `on a Redis Cluster, \`queuePrefix\` must hold a hash tag, such as "{${this.queuePrefix}}", ` +
          `so that all the keys of the queue live in one slot; got "${this.queuePrefix}"`,
      );
    }
    for (const bound of ['maxBytes', 'timeout'] as const) {
      const value = this.uploadDrain[bound];
      if (!Number.isFinite(value) || value < 0) {
        fail(`\`upload.drain.${bound}\` must be a finite number, 0 or more; got ${String(value)}`);
      }
    }
    this.checkUploadRules(upload, fail);
    this.checkOnDemand(fail);
    if (!(this.uploadIdleTimeout > 0) || !Number.isFinite(this.uploadIdleTimeout)) {
      fail(
        `\`upload.idleTimeout\` must be a positive number of milliseconds, got ${this.uploadIdleTimeout}`,
      );
    }
    const shared = this.tus && tusFolderOverlap(this.tus.directory, this.storages);
    if (shared) fail(shared);
    if (this.cacheTtl <= this.tokenTtl) {
      fail('`cacheTtl` must be longer than `tokenTtl`, or the sweep could take a live upload');
    }
  }

  private checkOnDemand(fail: (message: string) => never): void {
    const { concurrency, queueLimit, timeout, response } = this.onDemand;
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
      fail(
        `\`derivatives.onDemand.concurrency\` must be an integer, 1 or more; got ${concurrency}`,
      );
    }
    if (!Number.isSafeInteger(queueLimit) || queueLimit < 0) {
      fail(`\`derivatives.onDemand.queueLimit\` must be an integer, 0 or more; got ${queueLimit}`);
    }
    if (!(timeout > 0) || !Number.isFinite(timeout)) {
      fail(
        `\`derivatives.onDemand.timeout\` must be a positive number of milliseconds; got ${timeout}`,
      );
    }
    if (response !== 'serve' && response !== 'redirect') {
      fail(
        `\`derivatives.onDemand.response\` must be 'serve' or 'redirect'; got ${String(response)}`,
      );
    }
  }

  private checkUploadRules(
    upload: AttachmentsUploadOptions | undefined,
    fail: (message: string) => never,
  ): void {
    // The option of versions before 0.3, which applied to uploads that named no attachment.
    if (upload && 'allowedTypes' in upload) {
      fail(
        '`upload.allowedTypes` is gone: uploads are held to the rules of the attachment they ' +
          'name, and uploads that name none are refused unless `upload.unnamed: { allowedTypes }` ' +
          'opts in',
      );
    }
    const unnamed = this.unnamedUploads;
    if (
      upload?.unnamed &&
      (!Array.isArray(unnamed?.allowedTypes) || !unnamed.allowedTypes.length)
    ) {
      fail('`upload.unnamed.allowedTypes` must list the accepted types, such as ["image/*"]');
    }
    for (const [name, value] of [
      ['upload.maxPixels', this.uploadMaxPixels],
      ['upload.maxSize', this.uploadMaxSize],
    ] as const) {
      if (!(value >= 0) || !Number.isFinite(value)) {
        fail(`\`${name}\` must be a finite number, 0 or more; got ${String(value)}`);
      }
    }
  }
}

function tusSettings(option: AttachmentsUploadOptions['tus']): TusSettings | null {
  if (!option) return null;
  const directory = option === true ? undefined : option.directory;
  if (directory === '') {
    // resolve('') is the working directory: uploads would land among the app's own files.
    throw new AttachmentConfigurationError('AttachmentsModule: `upload.tus.directory` is empty');
  }
  return { directory: resolve(directory ?? join(tmpdir(), 'nestjs-attachments-tus')) };
}

/**
 * Why the folder of unfinished tus uploads shares files with a storage, or undefined. A sweep
 * of either would delete the other's files, and tus would find files it never wrote.
 */
function tusFolderOverlap(
  directory: string,
  storages: Readonly<Record<string, Storage>>,
): string | undefined {
  const folder = `${pathToFileURL(directory).href.replace(/\/$/, '')}/`;
  for (const [name, storage] of Object.entries(storages)) {
    const location = storage.location;
    if (!location?.startsWith('file:')) continue;
    const outer = location.endsWith('/') ? location : `${location}/`;
    if (folder.startsWith(outer) || outer.startsWith(folder)) {
      return `\`upload.tus.directory\` (${folder}) overlaps the storage "${name}" (${outer})`;
    }
  }
  return undefined;
}
