export { chainDerivatives } from './chain.js';
export { derivativeDefinition } from './derivative-declaration.js';
export type {
  DerivativeDeclarations,
  DerivativeDefinition,
  DerivativeProcessorRef,
} from './derivative-declaration.js';
export {
  derivativeFilesAt,
  derivativeFolder,
  derivativeStem,
  isDerivativeExtension,
} from './derivative-location.js';
export { DerivativeMaker } from './derivative-maker.js';
export type {
  DerivativeFunction,
  DerivativeInput,
  DerivativeOutput,
  DerivativeProcessor,
} from './derivative-processor.interface.js';
export { checkPlaceholderPackages, makePlaceholder, takesPlaceholder } from './placeholder.js';
