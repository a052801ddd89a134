import type { ConnectionOptions } from 'bullmq';
import type { Cluster, ClusterNode, ClusterOptions, Redis } from 'ioredis';

/** A Redis Cluster given by its startup nodes; the module opens and closes its connections. */
export interface RedisClusterConnection {
  cluster: {
    /** Some of the cluster's nodes, e.g. `[{ host: '10.0.0.1', port: 6379 }]`. */
    nodes: ClusterNode[];
    /** ioredis cluster options (`redisOptions` for passwords and TLS, `natMap`, ...). */
    options?: ClusterOptions;
  };
}

/**
 * Where the queue lives: ioredis options for one Redis (`{ host, port }`, or
 * `{ sentinels, name }` to find the master through Sentinel), a Redis Cluster
 * (`{ cluster: { nodes, options } }`), or an ioredis `Redis` or `Cluster` instance.
 */
export type AttachmentsRedisConnection = ConnectionOptions | RedisClusterConnection;

/** What the connection option describes, told apart once. */
export type ResolvedConnection =
  | { kind: 'options'; options: ConnectionOptions }
  | { kind: 'cluster'; nodes: ClusterNode[]; options: ClusterOptions }
  | { kind: 'instance'; client: Redis | Cluster };

export function resolveConnection(connection: AttachmentsRedisConnection): ResolvedConnection {
  if (isClusterDescription(connection)) {
    return {
      kind: 'cluster',
      nodes: connection.cluster.nodes,
      options: connection.cluster.options ?? {},
    };
  }
  if (isIoredisClient(connection)) return { kind: 'instance', client: connection };
  return { kind: 'options', options: connection };
}

/** Whether the queue's keys are spread over the slots of a cluster. */
export function isClusterConnection(resolved: ResolvedConnection): boolean {
  return resolved.kind === 'cluster' || (resolved.kind === 'instance' && resolved.client.isCluster);
}

/**
 * Whether every key under `prefix` hashes to one slot: Redis hashes only the part between the
 * first `{` and the first `}` after it, when that part is not empty.
 */
export function hasHashTag(prefix: string): boolean {
  const open = prefix.indexOf('{');
  if (open < 0) return false;
  const close = prefix.indexOf('}', open + 1);
  return close > open + 1;
}

/** `host:port` of the servers the module reaches first, for messages. */
export function describeConnection(resolved: ResolvedConnection): string {
  const address = (node: object) => {
    const { host, port } = node as { host?: unknown; port?: unknown };
    return `${typeof host === 'string' ? host : '127.0.0.1'}:${typeof port === 'number' ? port : 6379}`;
  };
  switch (resolved.kind) {
    case 'cluster':
      return `cluster ${resolved.nodes.map((node) => (typeof node === 'object' ? address(node) : String(node))).join(', ')}`;
    case 'instance':
      return resolved.client.isCluster ? 'the given cluster' : address(resolved.client.options);
    case 'options': {
      const { url, sentinels, name } = resolved.options as Record<string, unknown>;
      if (typeof url === 'string') return new URL(url).host;
      if (Array.isArray(sentinels)) {
        return `"${String(name)}" through sentinels ${sentinels.map(address).join(', ')}`;
      }
      return address(resolved.options);
    }
  }
}

function isClusterDescription(
  connection: AttachmentsRedisConnection,
): connection is RedisClusterConnection {
  const cluster: unknown = (connection as Partial<RedisClusterConnection>).cluster;
  return (
    typeof cluster === 'object' &&
    cluster !== null &&
    Array.isArray((cluster as { nodes?: unknown }).nodes)
  );
}

function isIoredisClient(connection: AttachmentsRedisConnection): connection is Redis | Cluster {
  // What BullMQ itself checks, plus ioredis's `isCluster` flag, which other clients lack.
  const client = connection as Partial<Record<'connect' | 'duplicate' | 'disconnect', unknown>> & {
    isCluster?: unknown;
  };
  return (
    typeof client.connect === 'function' &&
    typeof client.duplicate === 'function' &&
    typeof client.disconnect === 'function' &&
    typeof client.isCluster === 'boolean'
  );
}
