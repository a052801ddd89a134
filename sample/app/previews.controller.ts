import {
  Controller,
  Get,
  Header,
  NotFoundException,
  Param,
  StreamableFile,
  UseFilters,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import {
  AttachmentErrorFilter,
  AttachmentSerializer,
  type AttachmentState,
  type SerializedAttachment,
} from '../../src/index.js';
import { placeholderDataUrl } from '../../src/derivatives/image.js';
import { Photo } from './photo.entity.js';
import { findById } from './records.js';

/** What the page shows of a photo's image besides the original: GET /photos/:id/preview. */
export interface PhotoPreview {
  state: AttachmentState;
  /** The original, cached or stored. */
  url: string;
  /** Not ready until the page first loads `url`, which makes it (an on-demand derivative). */
  thumbnail: SerializedAttachment['derivatives'][string];
  /** A PNG of the ThumbHash made at promotion; null while the image is cached. */
  placeholder: string | null;
  width: number | null;
  height: number | null;
}

/** The thumbnail and the placeholder of a photo, beside the photo's own answers. */
@Controller('photos')
@UseFilters(AttachmentErrorFilter)
export class PreviewsController {
  constructor(
    @InjectRepository(Photo) private readonly photos: Repository<Photo>,
    private readonly serializer: AttachmentSerializer,
  ) {}

  @Get(':id/preview')
  async preview(@Param('id') id: string): Promise<PhotoPreview> {
    const photo = await this.find(id);
    const image = await this.serializer.serialize(photo, 'image');
    if (!image) throw new NotFoundException(`Photo ${photo.id} has no image`);
    const { metadata } = image;
    return {
      state: image.state,
      url: image.url,
      thumbnail: image.derivatives.thumb!,
      placeholder: metadata.placeholder ? `/photos/${photo.id}/placeholder` : null,
      width: metadata.width ?? null,
      height: metadata.height ?? null,
    };
  }

  // An image of the app's own origin: the page's Content-Security-Policy allows no data: URL.
  @Get(':id/placeholder')
  @Header('Cache-Control', 'private, max-age=3600')
  async placeholder(@Param('id') id: string): Promise<StreamableFile> {
    const photo = await this.find(id);
    const url = photo.image && (await placeholderDataUrl(photo.image.metadata));
    if (!url) throw new NotFoundException(`Photo ${photo.id} has no placeholder yet`);
    const png = Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');
    return new StreamableFile(png, { type: 'image/png', length: png.length });
  }

  private find(id: string): Promise<Photo> {
    return findById(id, 'photo', (key) => this.photos.findOneBy({ id: key }));
  }
}
