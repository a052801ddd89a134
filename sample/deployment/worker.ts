/**
 * The worker process: no HTTP server, only the jobs, the relay and the cache sweep.
 * `node build/sample/deployment/worker.js`, with the environment of attachments-options.ts.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { WorkerModule } from './worker.module.js';

const app = await NestFactory.createApplicationContext(WorkerModule);
// On SIGTERM or SIGINT, close the module: the jobs in hand finish, then the process exits.
app.enableShutdownHooks();
console.log('worker ready');
