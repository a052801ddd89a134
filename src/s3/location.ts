import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';

const clientIds = new WeakMap<S3Client, number>();
let lastClientId = 0;

/**
 * `s3://<server>/<bucket>/<prefix>`: where an S3Storage keeps its objects. The server is `aws`
 * for AWS itself, whose bucket names are global, or the host of the endpoint `clientConfig`
 * names. A given client only reveals a custom endpoint asynchronously, so it stands for itself
 * (`client-<n>`): storages sharing one client still compare, two clients of one server do not.
 */
export function s3Location(
  client: S3Client,
  clientConfig: S3ClientConfig | undefined,
  bucket: string,
  prefix: string,
): string {
  return `s3://${serverOf(client, clientConfig)}/${bucket}/${prefix}`;
}

function serverOf(client: S3Client, clientConfig: S3ClientConfig | undefined): string {
  // Strictly false: a client of another SDK copy may lack the flag, and is then not assumed AWS.
  if (client.config?.isCustomEndpoint === false) return 'aws';
  const host = hostOf(clientConfig?.endpoint);
  if (host) return host;
  let id = clientIds.get(client);
  if (id === undefined) clientIds.set(client, (id = ++lastClientId));
  return `client-${id}`;
}

function hostOf(endpoint: S3ClientConfig['endpoint']): string | undefined {
  if (typeof endpoint === 'string')
    return URL.canParse(endpoint) ? new URL(endpoint).host : undefined;
  if (typeof endpoint !== 'object' || endpoint === null) return undefined;
  if ('url' in endpoint) return endpoint.url.host;
  const hostname = endpoint.hostname.toLowerCase();
  return endpoint.port === undefined ? hostname : `${hostname}:${endpoint.port}`;
}
