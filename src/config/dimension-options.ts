import { AttachmentConfigurationError, DIMENSION_RULES, type FileRules } from '../core/index.js';

/**
 * Refuses, at startup, dimension rules no image could meet or that say nothing: each a positive
 * whole number of pixels, and each minimum no larger than its maximum. `where` names the
 * attachment in the message.
 */
export function checkDimensionOptions(rules: Readonly<FileRules>, where: string): void {
  const fail = (message: string): never => {
    throw new AttachmentConfigurationError(`${where}: ${message}`);
  };
  for (const rule of DIMENSION_RULES) {
    const value: unknown = rules[rule];
    if (
      value !== undefined &&
      !(typeof value === 'number' && Number.isSafeInteger(value) && value > 0)
    ) {
      fail(`\`${rule}\` must be a positive integer (pixels); got ${String(value)}`);
    }
  }
  for (const side of ['Width', 'Height'] as const) {
    const min = rules[`min${side}`];
    const max = rules[`max${side}`];
    if (min !== undefined && max !== undefined && min > max) {
      fail(`\`min${side}\` (${min}) is larger than \`max${side}\` (${max})`);
    }
  }
}
