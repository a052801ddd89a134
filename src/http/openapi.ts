/**
 * What each route of the library reads and answers, for an app's OpenAPI document (applied with
 * `@nestjs/swagger` when the app has it, see openapi-swagger.ts). Kept in this one place so the
 * controllers stay about serving, and so the descriptions are read side by side.
 */
import {
  BINARY,
  DIRECT_UPLOAD_PARAMS,
  MULTIPART_COMPLETE,
  MULTIPART_COMPLETION,
  MULTIPART_CREATE,
  MULTIPART_START,
  NOTHING,
  PART_URL,
  type Schema,
  UPLOAD_FORM,
  UPLOAD_RESPONSE,
  UPLOADED_PARTS,
} from './openapi-schemas.js';
import { TUS_TOKEN_HEADER } from './tus-uploads.service.js';

export interface RouteParameter {
  name: string;
  description: string;
  required?: boolean;
  schema?: Schema;
  /** Sent as `name[field]=value`, as Uppy sends a file's meta. */
  deepObject?: boolean;
}

/** One answer of a route: its content by media type, and the headers that matter in it. */
export interface RouteAnswer {
  description: string;
  content?: Record<string, Schema>;
  headers?: Record<string, string>;
}

export interface RouteDescription {
  summary: string;
  description?: string;
  path?: RouteParameter[];
  query?: RouteParameter[];
  /** The request's body: one media type, and its schema. */
  body?: { description: string; required: boolean; type: string; schema: Schema };
  /** The answers other than refusals, by status. */
  answers: Record<number, RouteAnswer>;
  /** The statuses it refuses with, each answered with the library's error body. */
  refusals: number[];
}

/** The descriptions of one controller's routes, by the name of the method that serves each. */
export type ControllerRoutes = Record<string, RouteDescription>;

/** Every route may be refused by the app's guards (`controller.guards`). */
const GUARDED = 403;

const JSON_TYPE = 'application/json';

const json = (schema: Schema) => ({ [JSON_TYPE]: schema });

const parameter = (
  name: string,
  description: string,
  more: Omit<RouteParameter, 'name' | 'description'> = {},
): RouteParameter => ({ name, description, ...more });

const ENTITY = parameter('entity', 'The entity of the attachment the file is for, e.g. `Photo`');
const ATTACHMENT = parameter(
  'attachment',
  'The attachment whose rules (size, types) the file is held to, e.g. `image`',
);
const KEY = parameter('key', 'The object key the create request answered', { required: true });
const UPLOAD_ID = parameter('uploadId', 'The upload id the create request answered');

export const UPLOAD_ROUTES = {
  upload: {
    summary: 'Upload one file into the cache, and get the token the form sends',
    description:
      'Streams the multipart field `file` into the cache storage under the rules of the named ' +
      'attachment (`?entity=&attachment=`, or form fields sent before the file).',
    query: [ENTITY, ATTACHMENT],
    body: {
      description: 'One file, in the field `file`',
      required: true,
      type: 'multipart/form-data',
      schema: UPLOAD_FORM,
    },
    answers: { 201: { description: 'Cached', content: json(UPLOAD_RESPONSE) } },
    refusals: [400, GUARDED, 408, 413, 415, 422],
  },
} satisfies ControllerRoutes;

const DIRECT = 'Uploads straight to the cache storage (S3), as Uppy AwsS3 calls them. ';

export const DIRECT_UPLOAD_ROUTES = {
  params: {
    summary: 'Presign one upload straight to the cache storage',
    description: `${DIRECT}The answer's \`token\` is what the form sends once the upload is done.`,
    query: [
      { name: 'filename', description: "The file's name" },
      { name: 'type', description: 'The type the browser reports (checked on the bytes later)' },
      ENTITY,
      ATTACHMENT,
      {
        name: 'method',
        description: 'Default `POST`',
        schema: { type: 'string', enum: ['POST', 'PUT'] },
      },
      {
        name: 'metadata',
        deepObject: true,
        description: "Uppy's file meta, `metadata[name]=...`, where the fields above are absent",
        schema: { type: 'object', additionalProperties: { type: 'string' } },
      },
    ],
    answers: { 200: { description: 'The request to send', content: json(DIRECT_UPLOAD_PARAMS) } },
    refusals: [400, GUARDED],
  },
  create: {
    summary: 'Start a multipart upload straight to the cache storage',
    description: `${DIRECT}What completion needs of this request is signed into the key.`,
    body: {
      description: 'The file to come',
      required: false,
      type: JSON_TYPE,
      schema: MULTIPART_CREATE,
    },
    answers: { 200: { description: 'Started', content: json(MULTIPART_START) } },
    refusals: [400, GUARDED],
  },
  signPart: {
    summary: 'Presign the upload of one part',
    path: [UPLOAD_ID, { name: 'partNumber', description: 'From 1 to 10000' }],
    query: [KEY],
    answers: { 200: { description: 'Where to send the part', content: json(PART_URL) } },
    refusals: [400, GUARDED],
  },
  listParts: {
    summary: 'List the parts uploaded so far',
    path: [UPLOAD_ID],
    query: [KEY],
    answers: { 200: { description: 'The parts', content: json(UPLOADED_PARTS) } },
    refusals: [400, GUARDED],
  },
  complete: {
    summary: 'Join the parts, check the file, and get the token the form sends',
    description:
      'The joined object is measured against the rules of the attachment named at create (and ' +
      'deleted if it breaks them) before a token is issued. Only its uploader can complete it.',
    path: [UPLOAD_ID],
    query: [KEY],
    body: {
      description: 'Every part',
      required: true,
      type: JSON_TYPE,
      schema: MULTIPART_COMPLETE,
    },
    answers: { 200: { description: 'Cached', content: json(MULTIPART_COMPLETION) } },
    refusals: [400, GUARDED, 404, 413, 415, 422],
  },
  abort: {
    summary: 'Abort a multipart upload',
    path: [UPLOAD_ID],
    query: [KEY],
    answers: { 200: { description: 'Aborted', content: json(NOTHING) } },
    refusals: [400, GUARDED],
  },
} satisfies ControllerRoutes;

/** What the files and derivatives routes stream: the file's own bytes, in part on a Range. */
const STREAMED: Record<number, RouteAnswer> = {
  200: { description: 'The file', content: { '*/*': BINARY } },
  206: { description: 'The range asked for (`Range: bytes=...`)', content: { '*/*': BINARY } },
  304: { description: 'Not modified since the copy the client has (`If-None-Match`)' },
  416: { description: 'The range lies outside the file' },
};

const SIGNATURE = parameter(
  'signature',
  'Required for storages marked signed: part of the URL the app made',
);
const EXPIRES = parameter(
  'expires',
  'Unix time, in seconds, after which the signed URL stops working',
  { schema: { type: 'integer' } },
);

export const FILES_ROUTES = {
  download: {
    summary: 'Download a stored file',
    description:
      "Serves the files of storages that have no URL of their own, at the URLs the app's " +
      '`FileUrls` makes; those of signed storages only through signed URLs.',
    path: [
      { name: 'storage', description: 'The configured name of the storage' },
      { name: 'id', description: 'The id of the file in it (may hold `/`)' },
    ],
    query: [{ name: 'filename', description: 'The name to download it as' }, EXPIRES, SIGNATURE],
    answers: STREAMED,
    refusals: [400, 403, 404],
  },
} satisfies ControllerRoutes;

export const DERIVATIVES_ROUTES = {
  derivative: {
    summary: 'A derivative made on demand, at the signed URL the app made for it',
    description: 'Made on the first request, then served (or redirected to) from storage.',
    path: [
      ENTITY,
      ATTACHMENT,
      { name: 'name', description: 'The name of the derivative, e.g. `thumb`' },
    ],
    query: [
      { name: 'record', required: true, description: 'The id of the record' },
      { name: 'storage', required: true, description: 'The storage of the original' },
      { name: 'file', required: true, description: 'The id of the original in it' },
      EXPIRES,
      { ...SIGNATURE, required: true, description: 'Part of the URL the app made' },
    ],
    answers: {
      ...STREAMED,
      302: { description: 'Redirect to the stored derivative', headers: { Location: 'Its URL' } },
    },
    refusals: [403, 404, 422, 503],
  },
} satisfies ControllerRoutes;

const TUS = 'Resumable uploads (tus 1.0.0), where `upload.tus` is on; `404` where it is off. ';
const TUS_ID = parameter('id', 'The upload, as `Location` named it');
const TUS_REFUSALS = [400, GUARDED, 404, 413, 415, 422];

export const TUS_ROUTES = {
  create: {
    summary: 'Create a resumable upload',
    description: `${TUS}\`Upload-Metadata\` names the file and may name \`entity\` and \`attachment\`.`,
    answers: {
      201: {
        description: 'Created (and cached, with the body of an upload, if it carried every byte)',
        headers: { Location: 'The upload' },
        content: json(UPLOAD_RESPONSE),
      },
    },
    refusals: TUS_REFUSALS,
  },
  offset: {
    summary: 'How much of a resumable upload has arrived',
    description: TUS,
    path: [TUS_ID],
    answers: { 200: { description: 'Known', headers: { 'Upload-Offset': 'Bytes received' } } },
    refusals: [GUARDED, 404],
  },
  append: {
    summary: 'Send the next bytes of a resumable upload',
    description: `${TUS}The answer to the last bytes carries the token the form sends.`,
    path: [TUS_ID],
    body: {
      description: 'Bytes from `Upload-Offset` on',
      required: true,
      type: 'application/offset+octet-stream',
      schema: BINARY,
    },
    answers: {
      200: {
        description: 'The last bytes: cached',
        headers: { [TUS_TOKEN_HEADER]: 'The token, as in the body' },
        content: json(UPLOAD_RESPONSE),
      },
      204: { description: 'Received', headers: { 'Upload-Offset': 'Bytes received' } },
    },
    refusals: TUS_REFUSALS,
  },
  terminate: {
    summary: 'Abandon a resumable upload',
    description: TUS,
    path: [TUS_ID],
    answers: { 204: { description: 'Deleted' } },
    refusals: [GUARDED, 404],
  },
} satisfies ControllerRoutes;

const script = (summary: string): RouteDescription => ({
  summary,
  answers: {
    200: { description: 'The module', content: { 'text/javascript': { type: 'string' } } },
  },
  refusals: [GUARDED],
});

export const CLIENT_SCRIPT_ROUTES = {
  client: script('The browser client, as a JavaScript module'),
  requests: script('A module the browser client imports'),
  multipart: script('A module the browser client imports'),
  tus: script('A module the browser client imports'),
} satisfies ControllerRoutes;
