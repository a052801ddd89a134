import { FileTooLargeError, FileTypeNotAllowedError } from './errors/index.js';
import type { FileMetadata } from './uploaded-file.js';

export interface FileRules {
  maxSize?: number;
  /** MIME types, with `type/*` wildcards, e.g. `['image/*', 'application/pdf']`. */
  allowedTypes?: readonly string[];
}

// MIME types compare case-insensitively; "*/*" matches any type, "image/*" any image.
export function mimeTypeMatches(mimeType: string, patterns: readonly string[]): boolean {
  const type = mimeType.toLowerCase();
  return patterns.some((raw) => {
    const pattern = raw.toLowerCase();
    if (pattern === '*/*') return true;
    return pattern.endsWith('/*') ? type.startsWith(pattern.slice(0, -1)) : type === pattern;
  });
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
