import { Injectable } from '@nestjs/common';
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import {
  Attachment,
  Attachments,
  type DerivativeInput,
  type DerivativeOutput,
  type DerivativeProcessor,
  type UploadedFile,
} from '../../src/index.js';

async function bytesOf(input: DerivativeInput): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of input.stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Test switches: `flaky` fails while `failing` is on; `upperCase` writes `upperExtension`. */
export const processorSwitches = { failing: false, upperExtension: 'txt' };

export async function upperCase(input: DerivativeInput): Promise<DerivativeOutput> {
  const text = (await bytesOf(input)).toString('utf8').toUpperCase();
  return {
    body: Buffer.from(text),
    contentType: 'text/plain',
    extension: processorSwitches.upperExtension,
  };
}

export async function reversed(input: DerivativeInput): Promise<DerivativeOutput> {
  const text = [...(await bytesOf(input)).toString('utf8')].reverse().join('');
  return { body: Buffer.from(text), contentType: 'text/plain', extension: 'txt' };
}

/** Wraps the text in brackets: a preprocess whose result tells it ran. */
export async function framed(input: DerivativeInput): Promise<DerivativeOutput> {
  const text = `[${(await bytesOf(input)).toString('utf8')}]`;
  return { body: Buffer.from(text), contentType: 'text/plain', extension: 'txt' };
}

export async function flaky(input: DerivativeInput): Promise<DerivativeOutput> {
  if (processorSwitches.failing) throw new Error('flaky processor failed (injected)');
  return reversed(input);
}

/** A class processor: resolved through Nest, so it could inject the app's providers. */
@Injectable()
export class WordCount implements DerivativeProcessor {
  async process(input: DerivativeInput): Promise<DerivativeOutput> {
    const words = (await bytesOf(input)).toString('utf8').split(/\s+/).filter(Boolean).length;
    return {
      body: Buffer.from(JSON.stringify({ words })),
      contentType: 'application/json',
      extension: 'json',
    };
  }
}

/** A text document with background derivatives, one made during promotion, and a flaky one. */
@Entity()
export class Note {
  @PrimaryGeneratedColumn()
  id!: number;

  @Attachment({
    derivatives: {
      upper: upperCase,
      count: WordCount,
      summary: { processor: reversed, duringPromotion: true },
      flaky,
    },
  })
  text!: UploadedFile | null;

  /** Stored as its processed version: the original never reaches the store. */
  @Attachment({ preprocess: upperCase })
  shout!: UploadedFile | null;

  @Column({ type: 'varchar', default: '' })
  title!: string;
}

/**
 * A list of text pages, each preprocessed, with a derivative made in the background and one
 * made during its promotion.
 */
@Entity()
export class Binder {
  @PrimaryGeneratedColumn()
  id!: number;

  @Attachments({
    preprocess: framed,
    derivatives: { upper: upperCase, summary: { processor: reversed, duringPromotion: true } },
    maxCount: 10,
  })
  pages!: UploadedFile[] | null;
}
