import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  UseFilters,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import {
  AttachmentErrorFilter,
  AttachmentSerializer,
  AttachmentsService,
  type SerializedAttachment,
} from '../../src/index.js';
import { Photo } from './photo.entity.js';
import { findById } from './records.js';

/** The image as this API has always answered it; the thumbnail is in GET /photos/:id/preview. */
export type PhotoImage = Pick<SerializedAttachment, 'state' | 'url' | 'metadata'>;

export interface PhotoView {
  id: number;
  title: string;
  /** `state` is `cached` until the background job has moved the file to the store. */
  image: PhotoImage | null;
}

interface PhotoInput {
  title?: string;
  /** An upload token from POST /attachments/upload; null removes the image. */
  image?: string | null;
}

const MAX_TITLE = 200;

/**
 * The API the page uses. Files never pass through here: the page uploads them to the library's
 * endpoint first and sends the token it got back.
 */
@Controller('photos')
@UseFilters(AttachmentErrorFilter) // token errors (400, 409...) and ours, all as JSON
export class PhotosController {
  constructor(
    @InjectRepository(Photo) private readonly photos: Repository<Photo>,
    private readonly attachments: AttachmentsService,
    private readonly serializer: AttachmentSerializer,
  ) {}

  @Get()
  async list(): Promise<PhotoView[]> {
    const photos = await this.photos.find({ order: { id: 'DESC' } });
    return Promise.all(photos.map((photo) => this.view(photo)));
  }

  @Get(':id')
  async show(@Param('id') id: string): Promise<PhotoView> {
    return this.view(await this.find(id));
  }

  @Post()
  async create(@Body() body: unknown): Promise<PhotoView> {
    const input = readInput(body, true);
    const photo = this.photos.create({ title: input.title, image: null });
    if (input.image !== undefined) await this.attachments.attach(photo, 'image', input.image);
    // Returns as soon as the row is committed; a job promotes the file afterwards.
    await this.photos.save(photo);
    return this.view(photo);
  }

  @Patch(':id')
  async update(@Param('id') id: string, @Body() body: unknown): Promise<PhotoView> {
    const input = readInput(body, false);
    const photo = await this.find(id);
    if (input.title !== undefined) photo.title = input.title;
    if (input.image !== undefined) await this.attachments.attach(photo, 'image', input.image);
    await this.photos.save(photo); // the replaced file is deleted by a job
    return this.view(photo);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    await this.photos.remove(await this.find(id)); // its files are deleted by a job
  }

  private find(id: string): Promise<Photo> {
    return findById(id, 'photo', (key) => this.photos.findOneBy({ id: key }));
  }

  private async view(photo: Photo): Promise<PhotoView> {
    const image = await this.serializer.serialize(photo, 'image');
    return { id: photo.id, title: photo.title, image: image && withoutExtras(image) };
  }
}

/** The answer without the thumbnail and the placeholder, which came later than this API. */
function withoutExtras({ state, url, metadata }: SerializedAttachment): PhotoImage {
  const { placeholder: _placeholder, ...kept } = metadata;
  return { state, url, metadata: kept };
}

/** Checks a JSON body by hand: two fields do not need a validation library. */
function readInput(body: unknown, creating: boolean): PhotoInput {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequestException(
      'Send a JSON object such as {"title": "...", "image": "<token>"}',
    );
  }
  const { title, image } = body as Record<string, unknown>;
  if (creating || title !== undefined) {
    if (typeof title !== 'string' || title.trim() === '') {
      throw new BadRequestException('title must be a non-blank string');
    }
    if (title.length > MAX_TITLE) {
      throw new BadRequestException(`title must be at most ${MAX_TITLE} characters`);
    }
  }
  if (image !== undefined && image !== null && typeof image !== 'string') {
    throw new BadRequestException('image must be an upload token (a string) or null');
  }
  return { title: typeof title === 'string' ? title.trim() : undefined, image };
}
