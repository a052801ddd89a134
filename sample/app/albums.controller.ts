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
  type UploadedFile,
} from '../../src/index.js';
import { Album, ALBUM_SIZE } from './album.entity.js';
import { findById } from './records.js';

/** One photo of an album: `key` names it in PATCH /albums/:id, before and after promotion. */
export type AlbumPhotoView = SerializedAttachment & { key: string };

export interface AlbumView {
  id: number;
  title: string;
  photos: AlbumPhotoView[];
}

const MAX_TITLE = 200;

/**
 * Albums: an `@Attachments()` list. PATCH /albums/:id takes the list as it should be, in order:
 * each entry is the `key` of a photo to keep or the token of a new upload; a photo left out is
 * removed, and a job deletes its files.
 */
@Controller('albums')
@UseFilters(AttachmentErrorFilter)
export class AlbumsController {
  constructor(
    @InjectRepository(Album) private readonly albums: Repository<Album>,
    private readonly attachments: AttachmentsService,
    private readonly serializer: AttachmentSerializer,
  ) {}

  @Get()
  async list(): Promise<AlbumView[]> {
    const albums = await this.albums.find({ order: { id: 'ASC' } });
    return Promise.all(albums.map((album) => this.view(album)));
  }

  @Get(':id')
  async show(@Param('id') id: string): Promise<AlbumView> {
    return this.view(await this.find(id));
  }

  @Post()
  async create(@Body() body: unknown): Promise<AlbumView> {
    const { title, photos } = readAlbum(body, true);
    const album = this.albums.create({ title, photos: [] });
    if (photos) await this.attachments.attachMany(album, 'photos', photos);
    await this.albums.save(album);
    return this.view(album);
  }

  @Patch(':id')
  async update(@Param('id') id: string, @Body() body: unknown): Promise<AlbumView> {
    const { title, photos } = readAlbum(body, false);
    const album = await this.find(id);
    if (title !== undefined) album.title = title;
    if (photos) await this.arrange(album, photos);
    await this.albums.save(album);
    return this.view(album);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    await this.albums.remove(await this.find(id));
  }

  /** Removes the photos left out, appends the new uploads, then puts the list in order. */
  private async arrange(album: Album, entries: string[]): Promise<void> {
    const current = album.photos ?? [];
    const kept = new Map<string, UploadedFile>();
    for (const file of current) if (entries.includes(keyOf(file))) kept.set(keyOf(file), file);
    const gone = current.filter((file) => !kept.has(keyOf(file)));
    this.attachments.detach(
      album,
      'photos',
      gone.map((file) => file.id),
    );
    const tokens = entries.filter((entry) => !kept.has(entry));
    const added = await this.attachments.attachMany(album, 'photos', tokens);
    const ids = entries.map((entry) => kept.get(entry)?.id ?? added[tokens.indexOf(entry)]!.id);
    this.attachments.reorder(album, 'photos', ids);
  }

  private find(id: string): Promise<Album> {
    return findById(id, 'album', (key) => this.albums.findOneBy({ id: key }));
  }

  private async view(album: Album): Promise<AlbumView> {
    const serialized = await this.serializer.serializeList(album, 'photos');
    const files = album.photos ?? [];
    const photos = serialized.map((photo, index) => ({ ...photo, key: keyOf(files[index]!) }));
    return { id: album.id, title: album.title, photos };
  }
}

/** A list's stored file keeps the id of the cached file it came from: the same key throughout. */
function keyOf(file: UploadedFile): string {
  return file.source ?? file.id;
}

function readAlbum(body: unknown, creating: boolean): { title?: string; photos?: string[] } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequestException('Send a JSON object such as {"title": "...", "photos": [...]}');
  }
  const { title, photos } = body as Record<string, unknown>;
  if (creating || title !== undefined) {
    if (typeof title !== 'string' || title.trim() === '' || title.length > MAX_TITLE) {
      throw new BadRequestException(`title must be a non-blank string of at most ${MAX_TITLE}`);
    }
  }
  if (photos !== undefined) {
    const valid =
      Array.isArray(photos) &&
      photos.every((entry) => typeof entry === 'string' && entry !== '') &&
      new Set(photos).size === photos.length;
    if (!valid) {
      throw new BadRequestException('photos must be a list of distinct photo keys and tokens');
    }
    if (photos.length > ALBUM_SIZE) {
      throw new BadRequestException(`An album holds at most ${ALBUM_SIZE} photos`);
    }
  }
  return {
    title: typeof title === 'string' ? title.trim() : undefined,
    photos: photos as string[] | undefined,
  };
}
