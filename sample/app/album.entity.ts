import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Attachments, type UploadedFile } from '../../src/index.js';
import { resizeImage } from '../../src/derivatives/image.js';

/** At most this many photos in an album. */
export const ALBUM_SIZE = 12;

@Entity()
export class Album {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar' })
  title!: string;

  @Attachments({
    allowedTypes: ['image/*'],
    maxSize: 10 * 1024 * 1024,
    maxCount: ALBUM_SIZE,
    // One job per file of the list after its promotion.
    derivatives: { thumb: resizeImage({ width: 240, height: 240, fit: 'cover', format: 'webp' }) },
  })
  photos!: UploadedFile[] | null;
}
