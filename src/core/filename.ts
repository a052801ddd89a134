import { extname } from 'node:path';

const MAX_FILENAME_LENGTH = 255;

/**
 * Names Windows opens as devices whatever follows the first dot (`CON.png` is the console, not a
 * file), compared without case and with trailing spaces dropped, as Windows does.
 */
const WINDOWS_DEVICE =
  /^(con|prn|aux|nul|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3]|conin\$|conout\$)$/i;

/**
 * Keeps a client-supplied filename displayable and harmless: the last path segment only, no
 * control characters, no quotes or separators that could break a header or a path.
 */
export function sanitizeFilename(name: string | null | undefined): string | null {
  if (!name) return null;
  const lastSegment = name.split(/[\\/]/).pop() ?? '';
  const cleaned = lastSegment
    .normalize('NFC')
    // Control characters would let a filename break a header line or a terminal; bidirectional
    // overrides would let `evil\u202Egnp.exe` display as `evilexe.png`.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069"<>:|?*]/g, '')
    .replace(/^[.\s]+/, '')
    .trim();
  if (!cleaned) return null;
  const safe = isWindowsDeviceName(cleaned) ? `_${cleaned}` : cleaned;
  if (safe.length <= MAX_FILENAME_LENGTH) return safe;
  const ext = safeExtension(safe);
  // Cut between code points, never inside a character made of two UTF-16 units.
  let kept = '';
  for (const character of safe) {
    if (kept.length + character.length > MAX_FILENAME_LENGTH - ext.length) break;
    kept += character;
  }
  return kept + ext;
}

/** Whether a file saved under `name` on Windows would open a device instead. */
function isWindowsDeviceName(name: string): boolean {
  const stem = name.split('.')[0]!.trimEnd();
  return WINDOWS_DEVICE.test(stem);
}

/** A short alphanumeric extension (with its dot), or '' when the name has none worth keeping. */
export function safeExtension(name: string | null | undefined): string {
  if (!name) return '';
  const ext = extname(name).toLowerCase();
  return /^\.[a-z0-9]{1,10}$/.test(ext) ? ext : '';
}
