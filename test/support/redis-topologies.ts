/**
 * Redis past one server, run by the test itself: a three-node Redis Cluster whose nodes can be
 * killed and brought back on their ports, and a master watched by one Sentinel.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from './harness.js';
import { Child, freePort, RedisServer } from './processes.js';

/** The value of `field` in the answer of `INFO` or `CLUSTER INFO`, or undefined. */
async function infoField(
  port: number,
  command: string[],
  field: string,
): Promise<string | undefined> {
  // A short-lived client that gives up at once, so a node still starting reads as not ready.
  const client = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const answer = String(await client.call(command[0]!, ...command.slice(1)));
    return new RegExp(`^${field}:(.*)$`, 'm').exec(answer)?.[1]?.trim();
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

/**
 * Three master nodes with every slot assigned, as `redis-cli --cluster create` makes them. The
 * nodes keep their cluster configuration in files of their own, so killed and started again
 * they form the same cluster, empty, as a cluster without persistence does after an outage.
 */
export class RedisCluster {
  private constructor(
    private readonly directory: string,
    readonly nodes: RedisServer[],
  ) {}

  static async start(size = 3): Promise<RedisCluster> {
    const directory = await mkdtemp(join(tmpdir(), 'attachments-cluster-'));
    const nodes: RedisServer[] = [];
    for (let index = 0; index < size; index++) {
      const port = await freePort();
      nodes.push(
        new RedisServer(port, [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(directory, `nodes-${port}.conf`),
          '--dir',
          directory,
        ]),
      );
    }
    const cluster = new RedisCluster(directory, nodes);
    try {
      await cluster.startNodes();
      const create = new Child(
        spawn(
          'redis-cli',
          [
            '--cluster',
            'create',
            ...nodes.map((node) => `127.0.0.1:${node.port}`),
            '--cluster-yes',
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        ),
      );
      await create.exit;
      if (create.process.exitCode !== 0)
        throw new Error(`redis-cli --cluster create failed: ${create.stderrTail}`);
      await cluster.untilOk();
    } catch (error) {
      await cluster.remove();
      throw error;
    }
    return cluster;
  }

  /** The startup nodes an app is given. */
  get startupNodes(): { host: string; port: number }[] {
    return this.nodes.map((node) => ({ host: '127.0.0.1', port: node.port }));
  }

  /** Every node is up (though the cluster may not be whole yet). */
  get running(): boolean {
    return this.nodes.every((node) => node.running);
  }

  /** SIGKILL on every node: the cluster is gone, with its data. */
  async kill(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.kill()));
  }

  /** Starts the nodes again and waits until each one says the cluster is whole. */
  async restart(): Promise<void> {
    await this.startNodes();
    await this.untilOk();
  }

  async remove(): Promise<void> {
    await this.kill();
    await rm(this.directory, { recursive: true, force: true });
  }

  private async startNodes(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.start()));
  }

  /** Polls `CLUSTER INFO` on every node until all of them report `cluster_state:ok`. */
  private async untilOk(): Promise<void> {
    await waitFor(
      async () => {
        const states = await Promise.all(
          this.nodes.map((node) => infoField(node.port, ['CLUSTER', 'INFO'], 'cluster_state')),
        );
        return states.every((state) => state === 'ok');
      },
      'cluster_state:ok on every node',
      60_000,
    );
  }
}

/** A master and one Sentinel (quorum 1) that watches it under `name`. */
export class RedisSentinel {
  readonly name = 'attachments-master';

  private constructor(
    private readonly directory: string,
    readonly master: RedisServer,
    readonly port: number,
    private readonly sentinel: Child,
  ) {}

  static async start(): Promise<RedisSentinel> {
    const directory = await mkdtemp(join(tmpdir(), 'attachments-sentinel-'));
    const master = new RedisServer(await freePort());
    let sentinel: Child | undefined;
    try {
      await master.start();
      const port = await freePort();
      // Sentinel rewrites its configuration file, so it gets one of its own.
      const file = join(directory, 'sentinel.conf');
      await writeFile(
        file,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${directory}`,
          `sentinel monitor attachments-master 127.0.0.1 ${master.port} 1`,
          '',
        ].join('\n'),
      );
      sentinel = new Child(
        spawn('redis-server', [file, '--sentinel'], { stdio: ['ignore', 'pipe', 'pipe'] }),
      );
      await sentinel.line(/\+monitor master attachments-master/, 30_000);
      const started = new RedisSentinel(directory, master, port, sentinel);
      await waitFor(
        async () =>
          (await infoField(port, ['INFO', 'sentinel'], 'master0'))?.includes('status=ok') ?? false,
        'the sentinel to see its master',
      );
      return started;
    } catch (error) {
      await sentinel?.kill();
      await master.kill();
      await rm(directory, { recursive: true, force: true });
      throw error;
    }
  }

  async remove(): Promise<void> {
    await this.sentinel.kill();
    await this.master.kill();
    await rm(this.directory, { recursive: true, force: true });
  }
}
