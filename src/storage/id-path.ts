/** Encodes each segment of an id for a URL path, keeping the slashes between them. */
export function encodeIdPath(id: string): string {
  return id.split('/').map(encodeURIComponent).join('/');
}
