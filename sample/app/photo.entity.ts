import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Attachment, type UploadedFile } from '../../src/index.js';
import { resizeImage } from '../../src/derivatives/image.js';

@Entity()
export class Photo {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar' })
  title!: string;

  @Attachment({
    allowedTypes: ['image/*'],
    maxSize: 10 * 1024 * 1024,
    // Made at promotion: the page paints it while the thumbnail is on its way.
    placeholder: 'thumbhash',
    derivatives: {
      // Made on the first request of its signed URL: the page asks for it once the photo is
      // stored, and a photo that no page shows never gets one.
      thumb: {
        processor: resizeImage({ width: 480, height: 360, fit: 'cover', format: 'webp' }),
        onDemand: true,
      },
    },
  })
  image!: UploadedFile | null;
}
