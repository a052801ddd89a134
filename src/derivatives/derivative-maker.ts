import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { Injectable, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { AttachmentsConfig } from '../config/attachments-config.js';
import { MetadataProbe } from '../core/metadata-probe.js';
import type { FileRef, UploadedFile } from '../core/uploaded-file.js';
import type {
  DerivativeDefinition,
  DerivativeProcessorRef,
} from '../persistence/attachment-options.js';
import type { DerivativeFunction, DerivativeProcessor } from './derivative-processor.interface.js';

/** A derivative as declared on an attachment, normalized. */
export function derivativeDefinition(
  entry: DerivativeProcessorRef | DerivativeDefinition,
): DerivativeDefinition {
  return typeof entry === 'object' && 'processor' in entry ? entry : { processor: entry };
}

/**
 * Where a derivative of `original` goes: beside it, in a folder named after it, so the name
 * is deterministic (a retried job overwrites its own output) and never collides with another
 * original's.
 */
export function derivativeStem(original: FileRef, name: string): string {
  return `${derivativeFolder(original)}${name}`;
}

/** The folder (key prefix, ending in `/`) that holds every derivative of `original`. */
export function derivativeFolder(original: FileRef): string {
  const { dir, name: stem } = posix.parse(original.id);
  return `${posix.join(dir, stem)}/`;
}

/** Runs processors on stored files and stores what they return, measured like an upload. */
@Injectable()
export class DerivativeMaker {
  constructor(
    private readonly config: AttachmentsConfig,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** Processes `original` and stores the result at `<stem>.<extension>` of `storage`. */
  async make(
    processor: DerivativeProcessorRef,
    original: UploadedFile,
    target: { storage: string; stem: string },
  ): Promise<UploadedFile> {
    const run = await this.resolve(processor);
    const input = await this.config.storage(original.storage).open(original.id);
    try {
      const output = await run({ stream: input, metadata: original.metadata });
      const extension = output.extension.replace(/^\./, '').toLowerCase();
      if (!/^[a-z0-9]{1,10}$/.test(extension)) {
        throw new TypeError(`A derivative processor returned an unusable extension "${extension}"`);
      }
      const id = `${target.stem}.${extension}`;
      const probe = new MetadataProbe();
      const body = Buffer.isBuffer(output.body) ? Readable.from([output.body]) : output.body;
      body.on('error', (error) => probe.destroy(error));
      probe.on('error', () => undefined); // reported through the upload below
      await this.config
        .storage(target.storage)
        .upload(id, body.pipe(probe), { contentType: output.contentType });
      const metadata = await probe.metadata(posix.basename(id));
      return { id, storage: target.storage, metadata };
    } finally {
      input.destroy();
    }
  }

  /** A function as is; a class from the app's providers, or built with its dependencies. */
  private async resolve(processor: DerivativeProcessorRef): Promise<DerivativeFunction> {
    if (!isClass(processor)) return processor;
    let instance: DerivativeProcessor;
    try {
      instance = this.moduleRef.get(processor, { strict: false });
    } catch {
      instance = await this.moduleRef.create(processor);
    }
    return (input) => instance.process(input);
  }
}

function isClass(value: DerivativeProcessorRef): value is Type<DerivativeProcessor> {
  return typeof value === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(value));
}
