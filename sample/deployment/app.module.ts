import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AttachmentsModule } from '../../src/index.js';
import { attachmentsOptions } from './attachments-options.js';
import { DatabaseModule } from './database.module.js';

/** The web process: it saves records and enqueues work, and runs no job. */
@Module({
  imports: [
    DatabaseModule,
    AttachmentsModule.forRootAsync({
      inject: [DataSource],
      useFactory: (dataSource: DataSource) => attachmentsOptions(dataSource, false),
    }),
  ],
})
export class AppModule {}
