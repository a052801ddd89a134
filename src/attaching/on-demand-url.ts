import { type DerivativeUrlGrant, InvalidFileUrlError, signDerivativeUrl } from '../core/index.js';

/** The route of on-demand derivatives under the controller's prefix (no wildcard: Fastify too). */
export const DERIVATIVES_ROUTE = 'derivatives/:entity/:attachment/:name';

/** The signed path and query of an on-demand derivative, under `urlPrefix`. */
export function derivativeUrl(grant: DerivativeUrlGrant, secret: string, urlPrefix: string) {
  const path = [grant.entity, grant.attachment, grant.name].map(encodeURIComponent).join('/');
  const query = new URLSearchParams({
    record: grant.record,
    storage: grant.storage,
    file: grant.file,
  });
  if (grant.expires !== undefined) query.set('expires', String(grant.expires));
  query.set('signature', signDerivativeUrl(grant, secret));
  return `${urlPrefix}/derivatives/${path}?${query}`;
}

/** The grant a request to the derivatives route claims, still to be verified. */
export function claimedDerivativeGrant(
  params: Record<string, unknown>,
  query: Record<string, unknown>,
): DerivativeUrlGrant {
  const text = (value: unknown, field: string): string => {
    if (typeof value === 'string' && value !== '') return value;
    throw new InvalidFileUrlError(`The derivative URL lacks its \`${field}\``);
  };
  const grant: DerivativeUrlGrant = {
    entity: text(params.entity, 'entity'),
    attachment: text(params.attachment, 'attachment'),
    name: text(params.name, 'name'),
    record: text(query.record, 'record'),
    storage: text(query.storage, 'storage'),
    file: text(query.file, 'file'),
  };
  if (query.expires !== undefined) grant.expires = Number(text(query.expires, 'expires'));
  return grant;
}
