import type { Type } from '@nestjs/common';
import type { DerivativeFunction, DerivativeProcessor } from './derivative-processor.interface.js';

/** A function, or an injectable class resolved from the app's providers (or built with DI). */
export type DerivativeProcessorRef = DerivativeFunction | Type<DerivativeProcessor>;

export interface DerivativeDefinition {
  processor: DerivativeProcessorRef;
  /**
   * Made inside the promotion job, so the record never points at a stored file without it.
   * Default false: each derivative is a job of its own, after promotion.
   */
  duringPromotion?: boolean;
  /**
   * Made on the first request for it, through the signed URL `url()` gives while it is missing,
   * instead of in a job after promotion. Cannot be combined with `duringPromotion`.
   */
  onDemand?: boolean;
}

/** How an attachment declares its derivatives: by name, a processor or a full definition. */
export type DerivativeDeclarations = Record<string, DerivativeProcessorRef | DerivativeDefinition>;

/** A derivative as declared on an attachment, normalized. */
export function derivativeDefinition(
  entry: DerivativeProcessorRef | DerivativeDefinition,
): DerivativeDefinition {
  return typeof entry === 'object' && 'processor' in entry ? entry : { processor: entry };
}
