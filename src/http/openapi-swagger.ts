import { createRequire } from 'node:module';
import type { Type } from '@nestjs/common';
import type * as SwaggerModule from '@nestjs/swagger';
import { isMissingPackage } from '../core/index.js';
import { attachmentErrorCodes } from './error-filter.js';
import type { ControllerRoutes, RouteAnswer, RouteDescription } from './openapi.js';
import { ERROR_BODY, type Schema } from './openapi-schemas.js';

type Swagger = typeof SwaggerModule;

/** The tag of every route of the library in an app's document. */
const TAG = 'attachments';

let swagger: Swagger | null | undefined;

/**
 * `@nestjs/swagger`, an optional peer, or null when the app lacks it. Required synchronously,
 * because routes are described as their classes are made, while the module is declared (it
 * has no top-level await, so Node's `require` loads it although it is an ES module).
 */
function loadSwagger(): Swagger | null {
  if (swagger !== undefined) return swagger;
  try {
    swagger = createRequire(import.meta.url)('@nestjs/swagger') as Swagger;
  } catch (error) {
    if (!isMissingPackage(error)) throw error;
    swagger = null;
  }
  return swagger;
}

/**
 * Gives `controller` the OpenAPI metadata of `routes` (by the name of the method serving each)
 * where the app has `@nestjs/swagger`, so its `SwaggerModule.createDocument` describes them;
 * else leaves it as it is. Returns the controller.
 */
export function describedRoutes<T>(
  controller: Type<T>,
  routes: Record<Exclude<keyof T, symbol | number>, RouteDescription> & ControllerRoutes,
): Type<T> {
  const api = loadSwagger();
  if (!api) return controller;
  api.ApiTags(TAG)(controller);
  const prototype: object = controller.prototype;
  for (const [method, route] of Object.entries(routes)) {
    const descriptor = Object.getOwnPropertyDescriptor(prototype, method);
    if (!descriptor) throw new Error(`${controller.name} has no route ${method} to describe`);
    for (const decorate of decorators(api, route)) decorate(prototype, method, descriptor);
  }
  return controller;
}

function decorators(api: Swagger, route: RouteDescription): MethodDecorator[] {
  const { summary, description } = route;
  const list: MethodDecorator[] = [api.ApiOperation({ summary, description })];
  for (const { name, description, schema } of route.path ?? []) {
    list.push(api.ApiParam({ name, description, required: true, schema: schema ?? STRING }));
  }
  for (const { name, description, required, schema, deepObject } of route.query ?? []) {
    const style = deepObject ? ({ style: 'deepObject', explode: true } as const) : {};
    list.push(
      api.ApiQuery({
        name,
        description,
        required: required ?? false,
        schema: schema ?? STRING,
        ...style,
      }),
    );
  }
  if (route.body) {
    const { type, ...body } = route.body;
    list.push(api.ApiConsumes(type), api.ApiBody(body));
  }
  for (const [status, answer] of Object.entries(route.answers)) {
    list.push(api.ApiResponse({ status: Number(status), ...openApiAnswer(answer) }));
  }
  for (const status of route.refusals) {
    list.push(api.ApiResponse({ status, ...refusal(status) }));
  }
  return list;
}

const STRING: Schema = { type: 'string' };

function openApiAnswer({ description, content, headers }: RouteAnswer) {
  return {
    description,
    ...(content ? { content: mapValues(content, (schema) => ({ schema })) } : {}),
    ...(headers
      ? { headers: mapValues(headers, (text) => ({ description: text, schema: STRING })) }
      : {}),
  };
}

/** A refusal, with the codes the library answers it with. */
function refusal(status: number) {
  const codes = attachmentErrorCodes(status).map((code) => `\`${code}\``);
  const what = codes.length > 0 ? `${codes.join(', ')}, or \`http_error\`` : '`http_error`';
  return {
    description: `Refused (${what})`,
    content: { 'application/json': { schema: ERROR_BODY } },
  };
}

function mapValues<A, B>(record: Record<string, A>, map: (value: A) => B): Record<string, B> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, map(value)]));
}
