import { Readable } from 'node:stream';
import { describeHead, HEAD_BYTES } from '../core/index.js';
import type {
  DerivativeFunction,
  DerivativeInput,
  DerivativeOutput,
} from './derivative-processor.interface.js';

/**
 * One derivative made by several steps in turn, each given the previous step's result: e.g. a
 * watermark of your own after `resizeImage`. Between steps the result is held in memory (a
 * derivative is small) so the next step knows its size, type and dimensions, read from its
 * bytes as for an upload. Several image operations are cheaper as one helper call: each step
 * decodes and encodes again.
 */
export function chainDerivatives(
  first: DerivativeFunction,
  ...rest: DerivativeFunction[]
): DerivativeFunction {
  return async (input) => {
    let output = await first(input);
    for (const step of rest) {
      output = await step(await asInput(output, input.metadata.filename));
    }
    return output;
  };
}

async function asInput(
  output: DerivativeOutput,
  filename: string | null,
): Promise<DerivativeInput> {
  const body = Buffer.isBuffer(output.body)
    ? output.body
    : Buffer.concat((await output.body.toArray()) as Buffer[]);
  const facts = await describeHead(body.subarray(0, HEAD_BYTES));
  return { stream: Readable.from([body]), metadata: { filename, size: body.length, ...facts } };
}
