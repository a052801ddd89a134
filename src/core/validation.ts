import {
  type DimensionRule,
  EmptyFileError,
  FileTooLargeError,
  FileTypeNotAllowedError,
  ImageDimensionsError,
  ImageTooLargeError,
} from './errors/index.js';
import type { FileMetadata } from './uploaded-file.js';

export interface FileRules {
  maxSize?: number;
  /** MIME types, with `type/*` wildcards, e.g. `['image/*', 'application/pdf']`. */
  allowedTypes?: readonly string[];
  /** Accept a file of 0 bytes. Default false: an empty upload is nearly always a mistake. */
  allowEmpty?: boolean;
  /** Most pixels (width × height, as the image's header declares them) of an image. */
  maxPixels?: number;
  /**
   * Bounds in pixels of an image's width and height, both ends included, as the image is shown
   * (after its EXIF orientation). An image whose dimensions cannot be read is refused when any
   * of them is set; a file that is not an image (by its bytes) is not held to them.
   */
  minWidth?: number;
  maxWidth?: number;
  minHeight?: number;
  maxHeight?: number;
}

/** The dimension rules, in the order they are checked. */
export const DIMENSION_RULES: readonly DimensionRule[] = [
  'minWidth',
  'maxWidth',
  'minHeight',
  'maxHeight',
];

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
  if (metadata.size === 0 && !rules.allowEmpty) throw new EmptyFileError();
  if (rules.maxSize !== undefined && metadata.size > rules.maxSize) {
    throw new FileTooLargeError(rules.maxSize, metadata.size);
  }
  if (rules.allowedTypes && !mimeTypeMatches(metadata.mimeType, rules.allowedTypes)) {
    throw new FileTypeNotAllowedError(metadata.mimeType, rules.allowedTypes);
  }
  checkPixels(metadata, rules.maxPixels);
  checkDimensions(metadata, rules);
}

/** Throws when declared dimensions exceed `maxPixels` (none given, or none read: no limit). */
export function checkPixels(
  dimensions: { width?: number; height?: number },
  maxPixels: number | undefined,
): void {
  const { width, height } = dimensions;
  if (maxPixels === undefined || width === undefined || height === undefined) return;
  if (width * height > maxPixels) throw new ImageTooLargeError(maxPixels, { width, height });
}

/** Throws the first dimension rule an image breaks; other files pass. */
export function checkDimensions(
  metadata: Pick<FileMetadata, 'mimeType' | 'width' | 'height'>,
  rules: Pick<FileRules, DimensionRule>,
): void {
  if (!metadata.mimeType.toLowerCase().startsWith('image/')) return;
  const { width, height } = metadata;
  for (const rule of DIMENSION_RULES) {
    const limit = rules[rule];
    if (limit === undefined) continue;
    if (width === undefined || height === undefined) {
      throw new ImageDimensionsError(rule, limit);
    }
    const measured = rule.endsWith('Width') ? width : height;
    const within = rule.startsWith('min') ? measured >= limit : measured <= limit;
    if (!within) throw new ImageDimensionsError(rule, limit, width, height);
  }
}
