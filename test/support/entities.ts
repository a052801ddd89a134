import { Column, DeleteDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Attachment, type UploadedFile } from '../../src/index.js';

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
