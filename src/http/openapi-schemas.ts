/**
 * The JSON the library's routes read and answer, as OpenAPI schemas, written inline in each
 * operation rather than as named components, so they can never collide with an app's own.
 */

/** A JSON Schema as OpenAPI 3.0 writes one: the parts these descriptions use. */
export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'boolean';
  format?: string;
  description?: string;
  enum?: string[];
  nullable?: boolean;
  example?: string | number;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: Schema | boolean;
  items?: Schema;
  oneOf?: Schema[];
}

const text = (description: string): Schema => ({ type: 'string', description });

const object = (properties: Record<string, Schema>, required: string[]): Schema => ({
  type: 'object',
  properties,
  required,
});

/** Bytes of any type, as the files and derivatives routes stream them. */
export const BINARY: Schema = { type: 'string', format: 'binary' };

/** How every route refuses: the library's codes, or `http_error` for other HTTP refusals. */
export const ERROR_BODY = object(
  {
    statusCode: { type: 'integer', description: 'The HTTP status, repeated', example: 413 },
    code: {
      type: 'string',
      description: 'Stable, for programs: what was refused (the error answers list them)',
      example: 'file_too_large',
    },
    message: {
      description: 'For people: why, and what to do (a list for refusals of several fields)',
      oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    },
    error: text('The status text, in refusals answered by Nest or the HTTP server itself'),
  },
  ['statusCode', 'message'],
);

const PLACEHOLDER = object(
  {
    type: { type: 'string', enum: ['thumbhash', 'blurhash'] },
    hash: text('ThumbHash: its bytes in base64; BlurHash: its base83 text'),
    width: { type: 'integer' },
    height: { type: 'integer' },
  },
  ['type', 'hash', 'width', 'height'],
);

const FILE_METADATA = object(
  {
    filename: { type: 'string', nullable: true, description: 'As sent, sanitized' },
    size: { type: 'integer', description: 'In bytes, measured on the stored bytes' },
    mimeType: text('Judged from the bytes, never taken from the client'),
    width: { type: 'integer', description: 'Images: in pixels, as shown' },
    height: { type: 'integer' },
    sha256: text('Hex SHA-256 of the content, where the attachment asks for it'),
    placeholder: PLACEHOLDER,
  },
  ['filename', 'size', 'mimeType'],
);

/** A file as an attachment column holds it, just cached: no derivatives yet. */
export const CACHED_FILE = object(
  {
    id: text('The id of the file in its storage'),
    storage: text('The configured name of the storage that holds it'),
    metadata: FILE_METADATA,
  },
  ['id', 'storage', 'metadata'],
);

const TOKEN = text('Signed, expiring and usable once: what the form sends for the attachment');

/** What `POST {prefix}/upload` answers. */
export const UPLOAD_RESPONSE = object(
  { token: TOKEN, file: CACHED_FILE, url: text('Where the cached file can be seen meanwhile') },
  ['token', 'file', 'url'],
);

/** The multipart body of `POST {prefix}/upload`. */
export const UPLOAD_FORM = object(
  {
    entity: text('The entity of the attachment (instead of `?entity=`), before the file'),
    attachment: text('The attachment whose rules apply (instead of `?attachment=`)'),
    file: { ...BINARY, description: 'The one file, last' },
  },
  ['file'],
);

const STRINGS: Schema = { type: 'object', additionalProperties: { type: 'string' } };

/** What `GET {prefix}/s3/params` answers. */
export const DIRECT_UPLOAD_PARAMS = object(
  {
    method: { type: 'string', enum: ['POST', 'PUT'] },
    url: text('Where the browser sends the file itself'),
    fields: { ...STRINGS, description: 'Form fields to send before the file (POST)' },
    headers: { ...STRINGS, description: 'Headers the request must carry (PUT)' },
    key: text('The cached file, which `attach()` accepts as it accepts the token'),
    token: TOKEN,
  },
  ['method', 'url', 'fields', 'headers', 'key', 'token'],
);

const FILE_FIELDS: Record<string, Schema> = {
  filename: text("The file's name"),
  type: text('The type the browser reports (checked on the bytes later)'),
  entity: text('The entity of the attachment'),
  attachment: text('The attachment whose rules apply'),
  metadata: {
    ...STRINGS,
    description:
      "Uppy's file meta: `name`, `type`, `entity`, `attachment` where the above are absent",
  },
};

/** The JSON body of `POST {prefix}/s3/multipart`, as Uppy's AwsS3 sends it. */
export const MULTIPART_CREATE = object(FILE_FIELDS, []);

/** What `POST {prefix}/s3/multipart` answers. */
export const MULTIPART_START = object(
  { uploadId: text("The storage's id of the upload"), key: text("The object's key") },
  ['uploadId', 'key'],
);

/** What `GET {prefix}/s3/multipart/:uploadId/:partNumber` answers. */
export const PART_URL = object(
  { url: text('Where the browser PUTs the part'), expires: { type: 'integer' } },
  ['url', 'expires'],
);

const PART = object({ PartNumber: { type: 'integer' }, ETag: { type: 'string' } }, [
  'PartNumber',
  'ETag',
]);

/** What `GET {prefix}/s3/multipart/:uploadId` answers: the parts uploaded so far. */
export const UPLOADED_PARTS: Schema = {
  type: 'array',
  items: { ...PART, properties: { ...PART.properties, Size: { type: 'integer' } } },
};

/** The JSON body of `POST {prefix}/s3/multipart/:uploadId/complete`. */
export const MULTIPART_COMPLETE = object(
  { parts: { type: 'array', items: PART }, ...FILE_FIELDS },
  ['parts'],
);

/** What `POST {prefix}/s3/multipart/:uploadId/complete` answers, once the object checked out. */
export const MULTIPART_COMPLETION = object(
  {
    location: text('Where the cached file can be seen meanwhile'),
    key: text("The object's key, which `attach()` accepts as it accepts the token"),
    token: TOKEN,
    file: CACHED_FILE,
  },
  ['location', 'key', 'token', 'file'],
);

/** What `DELETE {prefix}/s3/multipart/:uploadId` answers. */
export const NOTHING = object({}, []);
