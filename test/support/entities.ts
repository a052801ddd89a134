import { Column, DeleteDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Attachment, Attachments, type UploadedFile } from '../../src/index.js';

@Entity()
export class Photo {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', default: '' })
  title!: string;

  @Attachment({ allowedTypes: ['image/*'], maxSize: 1024 * 1024 })
  image!: UploadedFile | null;
}

@Entity()
export class Dossier {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Attachment({ location: 'flat' })
  report!: UploadedFile | null;

  @Attachment({ location: ({ entityName, attachment }) => `custom/${entityName}/${attachment}` })
  cover!: UploadedFile | null;

  @DeleteDateColumn()
  deletedAt!: Date | null;
}

/** A bare list, for the raw statements on list columns. */
@Entity()
export class Shelf {
  @PrimaryGeneratedColumn()
  id!: number;

  @Attachments()
  files!: UploadedFile[] | null;
}

/** A column value naming file `id` of `storage`, as the raw statements' tests write them. */
export const fileValue = (
  id: string,
  storage: string,
  extra: Partial<UploadedFile> = {},
): UploadedFile => ({
  id,
  storage,
  metadata: { filename: `${id}.png`, size: 3, mimeType: 'image/png' },
  ...extra,
});
