import { posix } from 'node:path';
import { Injectable, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { AttachmentsConfig } from '../config/index.js';
import type { UploadedFile } from '../core/index.js';
import { uploadMeasured } from '../storage/index.js';
import type { DerivativeProcessorRef } from './derivative-declaration.js';
import { isDerivativeExtension } from './derivative-location.js';
import type { DerivativeFunction, DerivativeProcessor } from './derivative-processor.interface.js';

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
      if (!isDerivativeExtension(extension)) {
        throw new TypeError(`A derivative processor returned an unusable extension "${extension}"`);
      }
      const id = `${target.stem}.${extension}`;
      const metadata = await uploadMeasured(this.config.storage(target.storage), id, output.body, {
        contentType: output.contentType,
        filename: posix.basename(id),
      });
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
