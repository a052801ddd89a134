import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Attachment, type UploadedFile } from '../src/index.js';

@Entity()
export class Photo {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar' })
  title!: string;

  @Attachment({ allowedTypes: ['image/*'], maxSize: 10 * 1024 * 1024 })
  image!: UploadedFile | null;
}
