/** The web apps (worker: false) the lanes operate through: the main one and those booted late. */
import { DataSource } from 'typeorm';
import { attachmentEntities } from '../../../src/index.js';
import { urlOptions, type TestDatabase } from '../databases.js';
import { Photo } from '../entities.js';
import { startHarness, type Harness } from '../harness.js';
import type { RedisServer } from '../processes.js';

export interface Web {
  name: string;
  harness: Harness;
  dataSource: DataSource;
}

// A web app with no error listener on its queue prints every failed reconnection.
const quiet = (harness: Harness) => harness.queue.on('error', () => undefined);

export class Webs {
  private readonly late: Web[] = [];
  private readonly lateDataSources: DataSource[] = [];

  private constructor(
    readonly main: Web,
    private readonly db: TestDatabase,
    private readonly redis: RedisServer,
  ) {}

  /** The main web app, over the test's DataSource; its directory and queue are the run's. */
  static async start(db: TestDatabase, redis: RedisServer): Promise<Webs> {
    const harness = await startHarness({
      dataSource: db.dataSource,
      worker: false,
      connection: { host: '127.0.0.1', port: redis.port },
      cacheDeleteDelay: 0,
    });
    quiet(harness);
    return new Webs({ name: 'main', harness, dataSource: db.dataSource }, db, redis);
  }

  /** A web app booted now, with a DataSource of its own for its subscriber. */
  async boot(name: string): Promise<Web> {
    const dataSource = await new DataSource(
      urlOptions(this.db.url!, { entities: [Photo, ...attachmentEntities] }),
    ).initialize();
    this.lateDataSources.push(dataSource);
    const main = this.main.harness;
    const harness = await startHarness({
      dataSource,
      directory: main.directory,
      queuePrefix: main.queue.opts.prefix!,
      worker: false,
      connection: { host: '127.0.0.1', port: this.redis.port },
      cacheDeleteDelay: 0,
    });
    quiet(harness);
    const web = { name, harness, dataSource };
    this.late.push(web);
    return web;
  }

  async close(): Promise<void> {
    // Not harness.close() for the late ones: that empties the queue, which the main one does last.
    for (const web of this.late) {
      await web.harness.app
        .close()
        .catch((error) => console.log(`closing ${web.name} failed: ${String(error)}`));
    }
    for (const dataSource of this.lateDataSources) {
      if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
    }
    await this.main.harness.close();
  }
}
