import { Readable } from 'node:stream';
import { Entity, PrimaryGeneratedColumn } from 'typeorm';
import {
  Attachment,
  type DerivativeFunction,
  type DerivativeInput,
  type DerivativeOutput,
  type UploadedFile,
} from '../../src/index.js';
import { ImageProcessingError, resizeImage } from '../../src/derivatives/image.js';
import { waitFor } from './harness.js';

/**
 * Counts the calls of a processor and can hold them until the test releases them, so a test
 * knows how often a derivative was made and can act while one is being made.
 */
export class ProcessorWatch {
  calls = 0;
  private held: Promise<void> = Promise.resolve();
  private release: () => void = () => undefined;

  wrap(processor: DerivativeFunction): DerivativeFunction {
    return async (input) => {
      this.calls++;
      await this.held;
      return processor(input);
    };
  }

  hold(): void {
    this.held = new Promise((resolve) => (this.release = resolve));
  }

  open(): void {
    this.release();
    this.held = Promise.resolve();
  }

  async reached(calls: number): Promise<void> {
    await waitFor(async () => this.calls >= calls, `${calls} calls of the processor`);
  }

  reset(): void {
    this.open();
    this.calls = 0;
  }
}

export const thumbWatch = new ProcessorWatch();

/** Stores part of its output, then fails: what is left must not stay. */
async function failsMidway(input: DerivativeInput): Promise<DerivativeOutput> {
  input.stream.destroy();
  let sent = false;
  const body = new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(Buffer.alloc(64 * 1024, 1));
      } else this.destroy(new Error('the processor broke midway (injected)'));
    },
  });
  return { body, contentType: 'image/webp', extension: 'webp' };
}

/** Refuses its input as an image processor refuses a corrupt one. */
async function refuses(input: DerivativeInput): Promise<DerivativeOutput> {
  input.stream.destroy();
  throw new ImageProcessingError('the input is not an image it reads (injected)');
}

/** An image with on-demand derivatives, one that fails, and one made by a job. */
@Entity()
export class Poster {
  @PrimaryGeneratedColumn()
  id!: number;

  @Attachment({
    allowedTypes: ['image/*'],
    derivatives: {
      thumb: {
        processor: thumbWatch.wrap(resizeImage({ width: 16, height: 16, format: 'webp' })),
        onDemand: true,
      },
      broken: { processor: failsMidway, onDemand: true },
      refused: { processor: refuses, onDemand: true },
      // Its files start as `refused`'s do: a cleanup of `refused` must leave them.
      'refused.kept': { processor: resizeImage({ width: 12, format: 'webp' }), onDemand: true },
      small: resizeImage({ width: 8, height: 8 }),
    },
  })
  image!: UploadedFile | null;
}

@Entity()
export class Cover {
  @PrimaryGeneratedColumn()
  id!: number;

  @Attachment({
    allowedTypes: ['image/*'],
    derivatives: {
      thumb: {
        processor: resizeImage({ width: 200, height: 200, format: 'webp' }),
        onDemand: true,
      },
    },
  })
  image!: UploadedFile | null;
}
