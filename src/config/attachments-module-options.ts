import type { IncomingMessage } from 'node:http';
import type { CanActivate, Type } from '@nestjs/common';
import type { DefaultJobOptions } from 'bullmq';
import type { DataSource } from 'typeorm';
import type { DeleteJobData, DeriveJobData, PromoteJobData } from '../core/index.js';
import type { Storage } from '../storage/index.js';
import type { AttachmentsRedisConnection } from './redis-connection.js';

/** How this process runs jobs (`worker`); `worker: false` runs none. */
export interface AttachmentsWorkerOptions {
  /** Jobs processed at once by this process. Default 5. */
  concurrency?: number;
  /** Milliseconds a job's lock lasts before another worker may take it over. Default 30000. */
  lockDuration?: number;
  /** Milliseconds between checks for jobs whose worker died. Default 30000. */
  stalledInterval?: number;
  /**
   * Times a job may stall (its worker died or hung) and be run again before BullMQ fails it.
   * The relay then queues it once more, each such failure spending one of `jobOptions.attempts`,
   * and records the failure on the work, where `retry()` takes it, once they are spent.
   * Default 1.
   */
  maxStalledCount?: number;
}

/** What `AttachmentsModule.forRoot()` takes (and what `forRootAsync()`'s factory returns). */
export interface AttachmentsModuleOptions {
  /** Storages by name. Must include the cache and store storages. */
  storages: Record<string, Storage>;
  /** Name of the storage uploads go to first. Default `cache`. */
  cacheStorage?: string;
  /** Default name of the permanent storage. Default `store`. */
  storeStorage?: string;
  /** The initialized TypeORM DataSource holding the attached entities. */
  dataSource: DataSource;
  /**
   * Redis connection for BullMQ: ioredis options (`{ host, port }`, or `{ sentinels, name }`
   * for Sentinel), `{ cluster: { nodes, options } }` for a Redis Cluster, or an ioredis
   * `Redis` or `Cluster` instance, which the module copies and leaves to the app to close.
   */
  connection: AttachmentsRedisConnection;
  /**
   * BullMQ key prefix, to share one Redis between apps. Default `bull`, or `{bull}` on a
   * cluster, where the prefix must hold a hash tag (`{name}`) so the queue's keys share a slot.
   */
  queuePrefix?: string;
  /** Job options (attempts, backoff, retention). Default: 8 attempts, exponential from 1 s. */
  jobOptions?: DefaultJobOptions;
  /** HMAC secret for upload tokens, at least 32 characters. */
  secret: string;
  /** Milliseconds an upload token stays valid. Default 6 hours. */
  tokenTtl?: number;
  /** Milliseconds after which an unattached cached file is swept. Default 24 hours. */
  cacheTtl?: number;
  /** Milliseconds a promoted file's cached copy is kept, for pages still showing it. Default 60 s. */
  cacheDeleteDelay?: number;
  /** Run the job processor in this process (`false` for web-only processes). Default true. */
  worker?: boolean | AttachmentsWorkerOptions;
  /** Re-sending of work that did not reach Redis. */
  relay?: {
    /** Milliseconds between relay passes. Default 10000; 0 disables the timer. */
    interval?: number;
    /**
     * Milliseconds after which the relay first checks that the queue holds a piece of work, and
     * sends it if not. Later checks come less often as the work ages (at most every 10 min).
     * Default 30000.
     */
    after?: number;
  };
  /**
   * Milliseconds a save waits for Redis to take its jobs before leaving them to the relay, so a
   * save returns in bounded time whatever state Redis is in. Default 2000.
   */
  sendTimeout?: number;
  /**
   * Milliseconds failed work is kept for the app to read and retry, before the sweep drops it.
   * Failed promotions whose record still holds the cached file, and failed deletions, are kept
   * whatever their age: dropping them would lose a file or leave one behind. Default 30 days.
   */
  failedWorkRetention?: number;
  /** Milliseconds between cache sweeps (a BullMQ job scheduler); 0 disables. Default 1 hour. */
  sweepInterval?: number;
  /** Observation points inside jobs. */
  jobHooks?: AttachmentsJobHooks;
  /** Rules of the upload endpoints (through the app, to S3 directly, tus), and who uploads. */
  upload?: AttachmentsUploadOptions;
  /**
   * Storages whose files are served only through signed, expiring URLs of the files endpoint,
   * even when the storage has public URLs of its own. Default none.
   */
  signedStorages?: readonly string[];
  /** Seconds a signed file URL stays valid. Default 3600. */
  signedUrlTtl?: number;
  /** How derivatives are made. */
  derivatives?: AttachmentsDerivativeOptions;
}

/** How derivatives are made, beyond what each attachment declares. */
export interface AttachmentsDerivativeOptions {
  /** The endpoint that makes `onDemand` derivatives on their first request. */
  onDemand?: AttachmentsOnDemandOptions;
}

/**
 * Bounds of the on-demand derivatives endpoint, per process: a burst of first requests queues
 * or is refused (503 with Retry-After) rather than running every processor at once.
 */
export interface AttachmentsOnDemandOptions {
  /** Derivatives made at once by this process. Default 2. */
  concurrency?: number;
  /** Makings that may wait for a free slot; beyond them, 503 at once. Default 20. */
  queueLimit?: number;
  /**
   * Milliseconds a making may take, its wait for a slot included, before its requests get 503.
   * It still holds its slot until its processor ends, and its output is then deleted, unwritten.
   * Default 30000.
   */
  timeout?: number;
  /**
   * `serve` streams the derivative in the answer; `redirect` answers 302 to its URL (the
   * storage's own, or the files endpoint's). Default `serve`.
   */
  response?: 'serve' | 'redirect';
}

/** A request as the owner resolver sees it: Node's, plus what auth middleware attached. */
export interface AttachmentsRequest extends IncomingMessage {
  user?: unknown;
}

/**
 * Rules of the upload endpoints, and who uploads. Every upload is held to the rules of the
 * attachment it names (`?entity=Photo&attachment=image`, or form fields before the file); one
 * that names none is refused (AttachmentRequiredError, 400) unless `unnamed` opts in.
 */
export interface AttachmentsUploadOptions {
  /**
   * Largest upload, in bytes, for an attachment that declares no `maxSize` of its own (and for
   * `unnamed` uploads without one). Default 100 MiB.
   */
  maxSize?: number;
  /**
   * Most pixels (width × height, as an image's header declares them) of an image, for an
   * attachment that declares no `maxPixels` of its own. A larger one is refused before it is
   * stored (ImageTooLargeError): a decompression bomb of a few MB can declare billions of
   * pixels. Default 100,000,000 (100 megapixels, 400 MB once decoded as RGBA).
   */
  maxPixels?: number;
  /**
   * Rules for uploads that name no attachment. Absent (the default), such uploads are
   * refused. Given, they are accepted under these rules, for apps that upload files before
   * they know what they are for; `attach()` still applies the attachment's own rules.
   */
  unnamed?: UnnamedUploadRules;
  /**
   * Who is uploading, e.g. `(request) => (request.user as User | undefined)?.id`. Tokens are
   * bound to it, and `attach()` then needs the same `owner`. Undefined leaves tokens unbound.
   */
  owner?: (request: AttachmentsRequest) => string | undefined | Promise<string | undefined>;
  /**
   * How much of a refused upload's body is still read (and thrown away) after the refusal, so
   * that a client still sending reads the answer: a server that closes while bytes arrive
   * resets the connection, and Node's `fetch` then reports `fetch failed` instead of the 413.
   * Past either bound the connection is closed. Defaults: 64 MiB, 10 seconds.
   */
  drain?: {
    /** Bytes read after the refusal before the connection is closed. Default 64 MiB. */
    maxBytes?: number;
    /** Milliseconds after the refusal before the connection is closed. Default 10,000. */
    timeout?: number;
  };
  /**
   * Milliseconds in which an upload through the app must receive at least 1 KiB, or it is
   * ended with 408 and its partial file removed, so a client that stops or trickles bytes
   * cannot hold a request open for ever. Default 30 s.
   */
  idleTimeout?: number;
  /**
   * Resumable uploads over the tus protocol at `{prefix}/tus`, under the same rules, guards and
   * owner as the upload endpoint. Needs `@tus/server` and `@tus/file-store` installed. Default off.
   */
  tus?: boolean | AttachmentsTusOptions;
}

/** Where resumable uploads wait until their last byte arrives. */
export interface AttachmentsTusOptions {
  /**
   * Folder holding unfinished uploads, outside every storage's folder. Every web process must
   * see the same folder (a client may resume through another one). Default
   * `<os.tmpdir()>/nestjs-attachments-tus`.
   */
  directory?: string;
}

/** What an upload that names no attachment is held to, when the app accepts such uploads. */
export interface UnnamedUploadRules {
  /** Accepted MIME types, judged from the bytes, with `type/*` wildcards. Required. */
  allowedTypes: readonly string[];
  /** Largest file, in bytes. Default `upload.maxSize`. */
  maxSize?: number;
  /** Accept files of 0 bytes. Default false. */
  allowEmpty?: boolean;
  /** Most pixels of an image. Default `upload.maxPixels`. */
  maxPixels?: number;
}

/** The upload and files controller, fixed when the module is declared (it shapes routes). */
export interface AttachmentsControllerOptions {
  /** Route prefix. Default `attachments`. */
  path?: string;
  /** Guards run before every route of the controller, e.g. your auth guard. */
  guards?: (CanActivate | Type<CanActivate>)[];
  /**
   * How browsers reach the prefix, when the app adds a global prefix or sits behind a proxy
   * path. Default `/<path>`.
   */
  urlPrefix?: string;
}

export type PromoteStep = 'promote:before-copy' | 'promote:before-write' | 'promote:after-write';
export type DeriveStep = 'derive:before-make' | 'derive:before-write';
export type DeleteStep = 'delete:before';

/** The points inside a job where `onStep` is called. */
export type JobStep = PromoteStep | DeriveStep | DeleteStep;

/** The data of a job at one of its steps: its `kind` tells which kind of work it is. */
export type JobStepData = PromoteJobData | DeriveJobData | DeleteJobData;

/** Observation points inside jobs. */
export interface AttachmentsJobHooks {
  /**
   * Awaited at each step of a job, with the job's data. Meant for tracing and for tests that
   * change a record at an exact point of a promotion.
   */
  onStep?: (step: JobStep, data: Readonly<JobStepData>) => void | Promise<void>;
}
