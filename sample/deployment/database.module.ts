import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { attachmentEntities } from '../../src/index.js';
import { Photo } from '../photo.entity.js';

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      useFactory: () => ({
        type: 'postgres',
        url: process.env.DATABASE_URL,
        autoLoadEntities: true,
        synchronize: false, // the schema comes from migrations
      }),
    }),
    // autoLoadEntities registers only what forFeature() lists: the library's tables too.
    TypeOrmModule.forFeature([Photo, ...attachmentEntities]),
  ],
  exports: [TypeOrmModule],
})
export class DatabaseModule {}
