/**
 * A `Content-Disposition` value that no filename can break: the quoted fallback keeps printable
 * ASCII only (no quotes, backslashes or line breaks), and `filename*` carries the real name
 * percent-encoded (RFC 8187), which browsers prefer.
 */
export function contentDisposition(type: 'inline' | 'attachment', filename?: string | null) {
  if (!filename) return type;
  const fallback = filename.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(filename).replace(
    /['()*]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${type}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
