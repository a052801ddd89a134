import { FileTooLargeError, FileTypeNotAllowedError } from '../errors/index.js';
import type { FileMetadata } from './uploaded-file.js';

export interface FileRules {
  maxSize?: number;
  /** MIME types, with `type/*` wildcards, e.g. `['image/*', 'application/pdf']`. */
  allowedTypes?: readonly string[];
}

export function mimeTypeMatches(mimeType: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) =>
    pattern.endsWith('/*')
      ? mimeType.startsWith(pattern.slice(0, -1))
      : mimeType === pattern.toLowerCase(),
  );
}

/** Throws the first rule the file breaks. */
export function validateFile(metadata: FileMetadata, rules: FileRules): void {
  if (rules.maxSize !== undefined && metadata.size > rules.maxSize) {
    throw new FileTooLargeError(rules.maxSize, metadata.size);
  }
  if (rules.allowedTypes && !mimeTypeMatches(metadata.mimeType, rules.allowedTypes)) {
    throw new FileTypeNotAllowedError(metadata.mimeType, rules.allowedTypes);
  }
}
