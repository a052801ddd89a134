import { extname } from 'node:path';

const MAX_FILENAME_LENGTH = 255;

/**
 * Keeps a client-supplied filename displayable and harmless: the last path segment only, no
 * control characters, no quotes or separators that could break a header or a path.
 */
export function sanitizeFilename(name: string | null | undefined): string | null {
  if (!name) return null;
  const lastSegment = name.split(/[\\/]/).pop() ?? '';
  const cleaned = lastSegment
    .normalize('NFC')
    // Control characters would let a filename break a header line or a terminal.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f"<>:|?*]/g, '')
    .replace(/^[.\s]+/, '')
    .trim();
  if (!cleaned) return null;
  if (cleaned.length <= MAX_FILENAME_LENGTH) return cleaned;
  const ext = safeExtension(cleaned);
  return cleaned.slice(0, MAX_FILENAME_LENGTH - ext.length) + ext;
}

/** A short alphanumeric extension (with its dot), or '' when the name has none worth keeping. */
export function safeExtension(name: string | null | undefined): string {
  if (!name) return '';
  const ext = extname(name).toLowerCase();
  return /^\.[a-z0-9]{1,10}$/.test(ext) ? ext : '';
}
