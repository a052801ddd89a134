import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Queue, QueueBase, RedisClient } from 'bullmq';
import { AttachmentsConfig, ATTACHMENTS_QUEUE } from '../config/index.js';
import { answerWithin } from '../core/index.js';

/**
 * What the library knows of its Redis connection: whether it was ever reachable, and whether
 * it is now. Saves never wait for Redis (the outbox keeps their work), so a call that needs it
 * is skipped while it has never been reached and cut short when it takes too long. An outage
 * is logged once, and its end once, instead of once per reconnection attempt.
 */
@Injectable()
export class QueueConnection implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Attachments');
  private everReady = false;
  private down = false;
  private lastFailureLog = 0;
  private readonly recoveryListeners: (() => void)[] = [];
  private readonly outageListeners: (() => void)[] = [];
  /** The queue's client, once BullMQ has it connected. */
  private client?: RedisClient;

  constructor(
    private readonly config: AttachmentsConfig,
    @InjectQueue(ATTACHMENTS_QUEUE) private readonly queue: Queue,
  ) {
    // At once: the queue is connecting since it was made, and a refusal that reaches it with no
    // listener is printed. Waiting for onModuleInit would let any provider that reads a file or
    // the network while the app starts (the optional packages are loaded so) open that window.
    this.watch(queue);
  }

  onModuleInit(): void {
    this.queue.waitUntilReady().then(
      async () => {
        this.everReady = true;
        this.client = await this.queue.getBackend().client;
      },
      () => undefined, // closed before Redis was ever reached
    );
  }

  /**
   * Closes the queue here, before @nestjs/bullmq does (its module is further from the app's),
   * and makes sure its client ends. BullMQ says goodbye to Redis, which fails at once while
   * Redis does not answer (the client keeps no command while offline); the failure leaves the
   * client reconnecting for ever, keeping the process alive, and Nest would log it as an error.
   * So while Redis is known to be down the queue is closed by disconnecting, and in every case
   * the client is disconnected once the queue is closed, whatever its state: an outage may have
   * begun unnoticed just before.
   */
  async onApplicationShutdown(): Promise<void> {
    try {
      await (this.ready ? this.queue.close() : this.queue.getBackend().close(true));
    } catch {
      // Redis went down unnoticed: the goodbye failed, and the client is stopped below.
    } finally {
      this.client?.disconnect();
    }
  }

  /** Takes over the errors of a queue or worker, which would each print a trace. */
  watch(source: QueueBase): void {
    source.on('error', (error: Error) => {
      if (isConnectionError(error)) this.unreachable(error);
      else this.logger.warn(`Queue error: ${String(error)}`);
    });
    source.getBackend().on('ready', () => this.reachable());
  }

  /** Reached since boot, and not known to be down now. */
  get ready(): boolean {
    return this.everReady && !this.down;
  }

  /** Called each time Redis becomes reachable after it was not. */
  onRecovery(listener: () => void): void {
    this.recoveryListeners.push(listener);
  }

  /** Resolves once Redis is known to be unreachable: at once while it is, else at the next outage. */
  whenUnreachable(): Promise<void> {
    if (this.down) return Promise.resolve();
    return new Promise((resolve) => this.outageListeners.push(resolve));
  }

  /**
   * Runs a Redis call in bounded time. Returns false, having logged the problem, when Redis has
   * never been reached, when the call fails, or when it takes longer than `sendTimeout`.
   */
  async attempt(what: string, call: () => Promise<unknown>): Promise<boolean> {
    // Down (a connection error was seen): commands would fail at once, or wait for Redis.
    if (this.down) return false;
    try {
      // Still connecting at start: the call waits for the connection, within the same bound.
      await answerWithin(this.config.sendTimeout, call);
      return true;
    } catch (error) {
      // One line a minute at most: a slow or flapping Redis would otherwise log once per save.
      if (Date.now() - this.lastFailureLog > 60_000) {
        this.lastFailureLog = Date.now();
        this.logger.warn(`Could not ${what}; the relay will retry: ${String(error)}`);
      }
      return false;
    }
  }

  private unreachable(error: Error): void {
    if (this.down) return;
    this.down = true;
    this.logger.warn(
      `Redis at ${this.config.redisAddress} is unreachable (${error.message}); saves go on, and their work ` +
        'waits in the outbox until Redis is back',
    );
    for (const listener of this.outageListeners.splice(0)) listener();
  }

  private reachable(): void {
    this.everReady = true;
    if (!this.down) return;
    this.down = false;
    this.logger.log('Redis is reachable again; sending the work that waited');
    for (const listener of this.recoveryListeners) listener();
  }
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/**
 * What ioredis says when no server can be reached. A cluster client reports it in its own
 * words: no node answered for the slot map, or none of the startup nodes at start.
 */
const UNREACHABLE =
  /Connection is closed|Stream isn't writeable|ECONNREFUSED|Failed to refresh slots cache|None of startup nodes is available|Cluster isn't ready/;

function isConnectionError(error: Error & { code?: unknown }): boolean {
  if (typeof error.code === 'string' && CONNECTION_CODES.has(error.code)) return true;
  return error.name === 'ClusterAllFailedError' || UNREACHABLE.test(error.message);
}
