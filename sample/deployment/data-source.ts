/**
 * The DataSource that TypeORM's CLI reads: `typeorm migration:run -d data-source.js`.
 * The app's own DataSource (database.module.ts) never synchronizes the schema.
 */
import { DataSource } from 'typeorm';
import { attachmentEntities } from '../../src/index.js';
import { Photo } from '../photo.entity.js';
import { CreatePhotos1764547200000 } from './migrations/1764547200000-create-photos.js';
import { Attachments1764633600000 } from './migrations/1764633600000-attachments.js';

export default new DataSource({
  type: 'postgres',
  url: process.env.DATABASE_URL,
  entities: [Photo, ...attachmentEntities],
  migrations: [CreatePhotos1764547200000, Attachments1764633600000],
});
