import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { ConnectionOptions } from 'bullmq';
import { Cluster, type Redis } from 'ioredis';
import { AttachmentsConfig } from './attachments-config.js';

/**
 * The Redis connections handed to BullMQ, built from the `connection` option with the settings
 * each side needs. BullMQ connects to a cluster only through an ioredis `Cluster` instance, and
 * never closes an instance it was given, so the instances made here are closed here, at
 * shutdown. An instance the app passed in is copied, never used or closed.
 */
@Injectable()
export class RedisConnections implements OnApplicationShutdown {
  private readonly made: (Redis | Cluster)[] = [];

  constructor(private readonly config: AttachmentsConfig) {}

  /**
   * For the queue that saves and the relay send through: while Redis is down its commands fail
   * at once instead of waiting in memory, since the outbox already keeps the work.
   */
  forQueue(): ConnectionOptions {
    const resolved = this.config.redis;
    switch (resolved.kind) {
      case 'options':
        return { ...resolved.options, enableOfflineQueue: false };
      case 'cluster':
        return this.keep(
          new Cluster(resolved.nodes, { ...resolved.options, enableOfflineQueue: false }),
        );
      case 'instance':
        return this.keep(copy(resolved.client, { enableOfflineQueue: false }));
    }
  }

  /**
   * For the worker, which runs its commands on this one and blocks on the queue on a copy it
   * makes, and needs commands that wait for Redis rather than give up after some retries. Not
   * lazy: a lazy cluster client whose first connection fails (the app started while the
   * cluster was down) gives up for good, where an eager one keeps trying.
   */
  forWorker(): ConnectionOptions {
    const resolved = this.config.redis;
    switch (resolved.kind) {
      case 'options':
        return resolved.options;
      case 'cluster':
        return this.keep(
          new Cluster(resolved.nodes, {
            ...resolved.options,
            redisOptions: { ...resolved.options.redisOptions, maxRetriesPerRequest: null },
          }),
        );
      case 'instance':
        return this.keep(copy(resolved.client, { maxRetriesPerRequest: null }));
    }
  }

  /**
   * After the worker closed (at module destroy). The queue may close before or after this:
   * BullMQ leaves an instance it was given open either way.
   */
  onApplicationShutdown(): void {
    for (const client of this.made.splice(0)) client.disconnect();
  }

  private keep(client: Redis | Cluster): Redis | Cluster {
    this.made.push(client);
    return client;
  }
}

interface Overrides {
  enableOfflineQueue?: boolean;
  maxRetriesPerRequest?: null;
}

/** A new client to the same servers with the same settings, but for `overrides`. */
function copy(client: Redis | Cluster, overrides: Overrides): Redis | Cluster {
  // `isCluster` rather than `instanceof`: the app's ioredis may be another copy of the package.
  if (!isCluster(client)) return client.duplicate(overrides);
  // On a cluster the offline queue is the cluster's own setting, and retries per request
  // those of each node's connection.
  const { maxRetriesPerRequest, ...clusterLevel } = overrides;
  const redisOptions =
    maxRetriesPerRequest === undefined
      ? client.options.redisOptions
      : { ...client.options.redisOptions, maxRetriesPerRequest };
  return client.duplicate(undefined, { ...clusterLevel, redisOptions });
}

function isCluster(client: Redis | Cluster): client is Cluster {
  return client.isCluster;
}
