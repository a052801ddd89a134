import { join } from 'node:path';
import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { attachmentEntities, AttachmentsModule } from '../../src/index.js';
import { Album } from './album.entity.js';
import { AlbumsController } from './albums.controller.js';
import { EventsController } from './events.controller.js';
import { PAGE_SETTINGS, PageController, type PageSettings } from './page.controller.js';
import { Photo } from './photo.entity.js';
import { PhotosController } from './photos.controller.js';
import { PreviewsController } from './previews.controller.js';
import { bucketOrigins, sampleStorages, type SampleS3Settings } from './storage.js';

/** What main.ts reads from the environment. */
export interface SampleSettings {
  /** Root of the `cache` and `store` folders (unless `s3`), and of the SQLite file. */
  uploads: string;
  /** Files in a bucket rather than in `uploads`, and uploads from the page straight to it. */
  s3?: SampleS3Settings;
  /** A `postgres://`, `mysql://` or `mariadb://` URL, or undefined for SQLite. */
  databaseUrl?: string;
  redisUrl: URL;
  queuePrefix: string;
  secret: string;
}

function database(settings: SampleSettings): TypeOrmModuleOptions {
  const common = {
    entities: [Photo, Album, ...attachmentEntities],
    synchronize: true, // a sample: real apps create the tables in migrations
    retryAttempts: 1, // fail at once with the driver's error rather than retrying for 30 s
  };
  const url = settings.databaseUrl;
  if (!url)
    return { type: 'better-sqlite3', database: join(settings.uploads, 'sample.sqlite'), ...common };
  const type = databaseType(url);
  if (!type) throw new Error(`DATABASE_URL: no database for ${url}`);
  return { type, url, ...common };
}

/** The TypeORM driver of each DATABASE_URL scheme; `mysql` and `mariadb` both use mysql2. */
const DATABASE_TYPES: Readonly<Record<string, 'postgres' | 'mysql' | 'mariadb'>> = {
  'postgres:': 'postgres',
  'postgresql:': 'postgres',
  'mysql:': 'mysql',
  'mariadb:': 'mariadb',
};

/** The TypeORM type for a DATABASE_URL, or undefined when the app has none for it. */
export function databaseType(url: string): 'postgres' | 'mysql' | 'mariadb' | undefined {
  const scheme = /^([a-z]+:)\/\//.exec(url)?.[1];
  return scheme ? DATABASE_TYPES[scheme] : undefined;
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
    const page: PageSettings = settings.s3
      ? { directUpload: 's3', storageOrigins: bucketOrigins(settings.s3) }
      : { directUpload: 'app', storageOrigins: [] };
    return {
      module: AppModule,
      imports: [
        TypeOrmModule.forRoot(database(settings)),
        TypeOrmModule.forFeature([Photo, Album]),
        AttachmentsModule.forRootAsync({
          isGlobal: true,
          inject: [DataSource],
          useFactory: async (dataSource: DataSource) => ({
            dataSource,
            storages: await sampleStorages(settings.uploads, settings.s3),
            connection: redisOptions(settings.redisUrl),
            queuePrefix: settings.queuePrefix,
            secret: settings.secret,
            // Long enough for a page that still shows the cached URL to poll and switch.
            cacheDeleteDelay: 3000,
          }),
        }),
      ],
      controllers: [
        PhotosController,
        PreviewsController,
        AlbumsController,
        EventsController,
        PageController,
      ],
      providers: [{ provide: PAGE_SETTINGS, useValue: page }],
    };
  }
}
