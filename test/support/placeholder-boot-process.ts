/**
 * Boots the module in a process of its own, over one entity chosen by `ENTITY`, where the
 * packages named in `HIDE` (comma-separated) cannot be found (a resolve hook answers as Node
 * does for a package that is not installed). Prints one JSON line: `{ booted: true }`, or the
 * error the boot failed with.
 */
import 'reflect-metadata';
import { Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Attachment, attachmentEntities, type UploadedFile } from '../../src/index.js';
import { printOutcome } from './child-outcome.js';
import { createTestDatabase } from './databases.js';
import { Photo } from './entities.js';
import { startHarness } from './harness.js';
import { hidePackages } from './hidden-packages.js';

hidePackages((process.env.HIDE ?? '').split(',').filter(Boolean));

@Entity()
class ThumbnailedArt {
  @PrimaryGeneratedColumn()
  id!: number;

  @Attachment({ placeholder: 'thumbhash' })
  image!: UploadedFile | null;
}

@Entity()
class BlurredArt {
  @PrimaryGeneratedColumn()
  id!: number;

  @Attachment({ placeholder: 'blurhash' })
  image!: UploadedFile | null;
}

@Entity()
class MisplacedArt {
  @PrimaryGeneratedColumn()
  id!: number;

  // What a JavaScript app, or a cast, can pass.
  @Attachment({ placeholder: 'webp' as 'thumbhash' })
  image!: UploadedFile | null;
}

@Entity()
class ImpossibleArt {
  @PrimaryGeneratedColumn()
  id!: number;

  @Attachment({ minWidth: 300, maxWidth: 200 })
  image!: UploadedFile | null;
}

const ENTITIES = { Photo, ThumbnailedArt, BlurredArt, MisplacedArt, ImpossibleArt };
const entity = ENTITIES[(process.env.ENTITY ?? 'Photo') as keyof typeof ENTITIES];

const db = await createTestDatabase('sqlite', [entity, ...attachmentEntities]);
await printOutcome(db, async () => {
  const harness = await startHarness({ dataSource: db.dataSource, worker: false });
  await harness.close();
  return { booted: true };
});
