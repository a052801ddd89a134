/**
 * The worker process: no HTTP server, only the jobs, the relay and the cache sweep.
 * `node build/sample/deployment/worker.js`, with the environment of attachments-options.ts.
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AttachmentsModule } from '../../src/index.js';
import { attachmentsOptions } from './attachments-options.js';
import { DatabaseModule } from './database.module.js';

@Module({
  imports: [
    DatabaseModule,
    AttachmentsModule.forRootAsync({
      inject: [DataSource],
      useFactory: (dataSource: DataSource) => attachmentsOptions(dataSource, true),
    }),
  ],
})
class WorkerModule {}

const app = await NestFactory.createApplicationContext(WorkerModule);
// On SIGTERM or SIGINT, close the module: the jobs in hand finish, then the process exits.
app.enableShutdownHooks();
console.log('worker ready');
