import type { IncomingMessage, ServerResponse } from 'node:http';
import { FileNotFoundError, contentDisposition } from '../core/index.js';
import type { ByteRange, Storage, StoredObjectStat } from '../storage/index.js';
import { parseHttpDate } from './http-date.js';
import { servedContentType } from './served-content-type.js';
import { streamToClient } from './stream-to-client.js';

export interface ServeOptions {
  filename?: string;
  /** Seconds a browser may keep the response; signed URLs pass what is left of their life. */
  maxAge: number;
  /** `public` for storages anyone may read, `private` for signed ones. */
  visibility: 'public' | 'private';
  /** The URL names these bytes for ever: caches need not revalidate it. */
  immutable?: boolean;
}

/**
 * Answers a GET or HEAD for one stored file: conditional requests (ETag, Last-Modified), a single
 * byte range (206, or 416 when it lies outside the file), and headers that keep an uploaded file
 * from acting as a page of the app (nosniff, a sandboxing CSP, downloads for unknown types).
 */
export async function serveFile(
  request: IncomingMessage,
  response: ServerResponse,
  storage: Storage,
  id: string,
  options: ServeOptions,
): Promise<void> {
  const stat = await storage.stat(id);
  if (!stat) throw new FileNotFoundError(id);
  const etag = entityTag(stat);
  const { type, inline } = servedContentType(id);
  response.setHeader('ETag', etag);
  response.setHeader('Last-Modified', stat.lastModified.toUTCString());
  response.setHeader('Accept-Ranges', 'bytes');
  const immutable = options.immutable ? ', immutable' : '';
  response.setHeader(
    'Cache-Control',
    `${options.visibility}, max-age=${options.maxAge}${immutable}`,
  );
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
  response.setHeader('Content-Type', type);
  response.setHeader(
    'Content-Disposition',
    contentDisposition(inline ? 'inline' : 'attachment', options.filename),
  );

  if (modifiedSince(request, stat)) {
    response.statusCode = 412;
    response.end();
    return;
  }
  if (notModified(request, stat, etag)) {
    response.statusCode = 304;
    response.end();
    return;
  }
  const range = requestedRange(request, stat, etag);
  if (range === 'unsatisfiable') {
    response.statusCode = 416;
    response.setHeader('Content-Range', `bytes */${stat.size}`);
    response.end();
    return;
  }
  const end = range?.end ?? stat.size - 1;
  response.statusCode = range ? 206 : 200;
  if (range) response.setHeader('Content-Range', `bytes ${range.start}-${end}/${stat.size}`);
  response.setHeader('Content-Length', String(stat.size === 0 ? 0 : end - (range?.start ?? 0) + 1));
  if (request.method === 'HEAD' || stat.size === 0) {
    response.end();
    return;
  }
  await streamToClient(await storage.open(id, range ?? undefined), response);
}

function entityTag(stat: StoredObjectStat): string {
  return `W/"${stat.size.toString(16)}-${stat.lastModified.getTime().toString(16)}"`;
}

function notModified(request: IncomingMessage, stat: StoredObjectStat, etag: string): boolean {
  const ifNoneMatch = request.headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    return ifNoneMatch === '*' || ifNoneMatch.split(',').some((tag) => sameTag(tag, etag));
  }
  const since = parseHttpDate(request.headers['if-modified-since']);
  return since !== undefined && lastModifiedSecond(stat) <= since;
}

/** If-Unmodified-Since names a time the file has changed since: the client's copy is stale. */
function modifiedSince(request: IncomingMessage, stat: StoredObjectStat): boolean {
  const since = parseHttpDate(request.headers['if-unmodified-since']);
  return since !== undefined && lastModifiedSecond(stat) > since;
}

/** Last-Modified as the header says it: HTTP-dates have no fraction of a second. */
function lastModifiedSecond(stat: StoredObjectStat): number {
  return Math.floor(stat.lastModified.getTime() / 1000) * 1000;
}

/** If-Range names the file as it is now, by its entity tag or its exact Last-Modified date. */
function sameVersion(ifRange: string, stat: StoredObjectStat, etag: string): boolean {
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith('W/')) return sameTag(value, etag);
  return parseHttpDate(value) === lastModifiedSecond(stat);
}

/** Weak comparison, as RFC 9110 asks of If-None-Match. */
function sameTag(a: string, b: string): boolean {
  return a.trim().replace(/^W\//, '') === b.replace(/^W\//, '');
}

/**
 * The one range asked for, null to send the whole file (no Range, several ranges, a syntax we do
 * not read, or an If-Range that no longer matches), or 'unsatisfiable'.
 */
function requestedRange(
  request: IncomingMessage,
  stat: StoredObjectStat,
  etag: string,
): ByteRange | null | 'unsatisfiable' {
  const header = request.headers.range;
  if (!header) return null;
  const ifRange = request.headers['if-range']?.toString();
  if (ifRange && !sameVersion(ifRange, stat, etag)) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return null;
  const size = stat.size;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}
