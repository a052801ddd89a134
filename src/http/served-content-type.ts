import { extname } from 'node:path';

/**
 * Types the files endpoint names by extension. Only formats a browser renders without running
 * code are listed; anything else (HTML, SVG, scripts) is sent as an octet-stream download, so an
 * upload can never become a page on the app's origin.
 */
const INERT_TYPES: Record<string, string> = {
  '.avif': 'image/avif',
  '.bmp': 'image/bmp',
  '.gif': 'image/gif',
  '.jpeg': 'image/jpeg',
  '.jpg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.pdf': 'application/pdf',
  '.txt': 'text/plain; charset=utf-8',
  '.mp3': 'audio/mpeg',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
};

export function servedContentType(id: string): { type: string; inline: boolean } {
  const type = INERT_TYPES[extname(id).toLowerCase()];
  return type ? { type, inline: true } : { type: 'application/octet-stream', inline: false };
}
