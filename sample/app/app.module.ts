import { join } from 'node:path';
import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { attachmentEntities, AttachmentsModule, FileSystemStorage } from '../../src/index.js';
import { PageController } from './page.controller.js';
import { Photo } from './photo.entity.js';
import { PhotosController } from './photos.controller.js';

/** What main.ts reads from the environment. */
export interface SampleSettings {
  /** Root of the `cache` and `store` folders, and of the SQLite file. */
  uploads: string;
  /** A `postgres://` URL, or undefined for SQLite. */
  databaseUrl?: string;
  redisUrl: URL;
  queuePrefix: string;
  secret: string;
}

function database(settings: SampleSettings): TypeOrmModuleOptions {
  const common = {
    entities: [Photo, ...attachmentEntities],
    synchronize: true, // a sample: real apps create the tables in migrations
    retryAttempts: 1, // fail at once with the driver's error rather than retrying for 30 s
  };
  return settings.databaseUrl
    ? { type: 'postgres', url: settings.databaseUrl, ...common }
    : { type: 'better-sqlite3', database: join(settings.uploads, 'sample.sqlite'), ...common };
}

/** ioredis options from a `redis://[user:password@]host:port[/db]` URL. */
export function redisOptions(url: URL) {
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.pathname.length > 1 ? { db: Number(url.pathname.slice(1)) } : {}),
  };
}

@Module({})
export class AppModule {
  static register(settings: SampleSettings): DynamicModule {
    return {
      module: AppModule,
      imports: [
        TypeOrmModule.forRoot(database(settings)),
        TypeOrmModule.forFeature([Photo]),
        AttachmentsModule.forRootAsync({
          isGlobal: true,
          inject: [DataSource],
          useFactory: (dataSource: DataSource) => ({
            dataSource,
            storages: {
              cache: new FileSystemStorage({ directory: join(settings.uploads, 'cache') }),
              store: new FileSystemStorage({ directory: join(settings.uploads, 'store') }),
            },
            connection: redisOptions(settings.redisUrl),
            queuePrefix: settings.queuePrefix,
            secret: settings.secret,
            // Long enough for a page that still shows the cached URL to poll and switch.
            cacheDeleteDelay: 3000,
          }),
        }),
      ],
      controllers: [PhotosController, PageController],
    };
  }
}
