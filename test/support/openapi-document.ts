import assert from 'node:assert/strict';
import type { OpenAPIObject } from '@nestjs/swagger';

/** The parts of an OpenAPI 3.0 schema that the library's descriptions use. */
export interface OpenApiSchema {
  type?: string;
  nullable?: boolean;
  enum?: unknown[];
  properties?: Record<string, OpenApiSchema>;
  required?: string[];
  additionalProperties?: OpenApiSchema | boolean;
  items?: OpenApiSchema;
  oneOf?: OpenApiSchema[];
}

const typeOf = (value: unknown): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
};

/**
 * Where `value` breaks `schema`, as `path: what` lines; none when it conforms. Enough of OpenAPI's
 * schemas to check real answers against the documented ones, and no more.
 */
export function schemaProblems(value: unknown, schema: OpenApiSchema, path = '$'): string[] {
  if (value === null) return schema.nullable ? [] : [`${path}: null`];
  if (schema.oneOf) {
    const fits = schema.oneOf.some((option) => schemaProblems(value, option, path).length === 0);
    return fits ? [] : [`${path}: fits none of oneOf`];
  }
  const actual = typeOf(value);
  if (
    schema.type &&
    schema.type !== actual &&
    !(schema.type === 'number' && actual === 'integer')
  ) {
    return [`${path}: ${actual}, not ${schema.type}`];
  }
  if (schema.enum && !schema.enum.includes(value)) return [`${path}: ${String(value)} not in enum`];
  if (actual === 'array' && schema.items) {
    const items = schema.items;
    return (value as unknown[]).flatMap((item, index) =>
      schemaProblems(item, items, `${path}[${index}]`),
    );
  }
  if (actual !== 'object') return [];
  const record = value as Record<string, unknown>;
  const problems = (schema.required ?? [])
    .filter((name) => !(name in record))
    .map((name) => `${path}.${name}: missing`);
  for (const [name, field] of Object.entries(record)) {
    const declared = schema.properties?.[name];
    const extra = schema.additionalProperties;
    if (declared) problems.push(...schemaProblems(field, declared, `${path}.${name}`));
    else if (typeof extra === 'object')
      problems.push(...schemaProblems(field, extra, `${path}.${name}`));
    else if (schema.properties) problems.push(`${path}.${name}: not documented`);
  }
  return problems;
}

/** The parts of an operation of the document that the tests read. */
export interface Operation {
  summary?: string;
  tags?: string[];
  parameters?: { name: string; in: string; required?: boolean; style?: string; schema?: unknown }[];
  requestBody?: { required?: boolean; content: Record<string, { schema: OpenApiSchema }> };
  responses: Record<
    string,
    { description: string; content?: Record<string, { schema: OpenApiSchema }> }
  >;
}

export const operations = (document: OpenAPIObject) =>
  Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item as Record<string, Operation>).map(([method, operation]) => ({
      route: `${method.toUpperCase()} ${path}`,
      operation,
    })),
  );

export const operation = (document: OpenAPIObject, method: string, path: string): Operation => {
  const found = (document.paths[path] as Record<string, Operation> | undefined)?.[method];
  assert.ok(found, `${method} ${path} is described`);
  return found;
};

export const jsonSchema = (operation: Operation, status: number): OpenApiSchema => {
  const schema = operation.responses[status]?.content?.['application/json']?.schema;
  assert.ok(schema, `a JSON schema for ${status}`);
  return schema;
};

export const queryParameters = (operation: Operation) =>
  (operation.parameters ?? []).filter((parameter) => parameter.in === 'query');
