import { Inject, Injectable, UnsupportedMediaTypeException } from '@nestjs/common';
import { HttpAdapterHost, type AbstractHttpAdapter } from '@nestjs/core';
import { ATTACHMENTS_HTTP, type AttachmentsHttpSettings } from '../config/index.js';
import { TUS_ROUTE } from './tus.controller.js';

/** The files route as the controller declares it, in the syntax of Express's router. */
export const FILES_ROUTE = 'files/:storage/*id';

/** The same route in Fastify's syntax: its router takes only a bare `*`, and only at the end. */
const FILES_ROUTE_ON_FASTIFY = 'files/:storage/*';

/** What Fastify calls the part of a path its trailing wildcard matched. */
const FASTIFY_WILDCARD = '*';

/** The parts of a route's options this module reads or rewrites; Fastify passes more. */
interface FastifyRoute {
  url: string;
  method: string | string[];
}

/** The parts of a Fastify request a content type parser is handed that this module reads. */
interface FastifyParsedRequest {
  routeOptions?: { url?: string };
  /** Set when no route matched: Fastify's 404 handler answers, whatever the body. */
  is404?: boolean;
}

type ParserDone = (error: Error | null, body?: undefined) => void;

/** The parts of Fastify's instance this module uses, so it never has to load Fastify itself. */
interface FastifyInstance {
  addHook(name: 'onRoute', hook: (route: FastifyRoute) => void): unknown;
  addContentTypeParser(
    type: RegExp,
    parser: (request: FastifyParsedRequest, payload: unknown, done: ParserDone) => void,
  ): unknown;
}

/** The upload routes per Fastify instance, for apps that declare the module more than once. */
const prepared = new WeakMap<object, Set<string>>();

/** The tus routes per Fastify instance, whose `application/offset+octet-stream` bodies tus reads. */
const tusPrepared = new WeakMap<object, Set<string>>();

/**
 * Makes the routes of the module work on Fastify as they do on Express. It runs when the module's
 * providers are created, which is before Nest registers any route, so on Fastify it can still:
 *
 * - rewrite the files route's named trailing wildcard, which Fastify's router refuses, into
 *   Fastify's own `*` (the controller reads either name);
 * - let the tus routes' `application/offset+octet-stream` bodies through unread, for tus to
 *   stream from Node's request, the same way;
 * - let multipart bodies of the upload route through unread, for its parser to stream. Fastify
 *   parses bodies itself and refuses a type it has no parser for; this parser matches by pattern,
 *   so a parser the app registers for `multipart/form-data` itself (such as `@fastify/multipart`,
 *   which leaves the body unread too) takes precedence, and other routes keep the 415 that Fastify
 *   answers without one.
 *
 * Express apps are left alone, and nothing here loads Fastify.
 */
@Injectable()
export class FastifyRoutes {
  constructor(
    adapterHost: HttpAdapterHost,
    @Inject(ATTACHMENTS_HTTP) http: AttachmentsHttpSettings | null,
  ) {
    // An application context without HTTP has no adapter.
    const adapter: AbstractHttpAdapter | undefined = adapterHost.httpAdapter;
    if (!http || adapter?.getType() !== 'fastify') return;
    prepare(adapter.getInstance<FastifyInstance>(), http.path);
  }
}

function prepare(fastify: FastifyInstance, path: string): void {
  const prefix = path ? `/${path}/` : '/';
  const uploads = routesOf(fastify, prepared, MULTIPART);
  const tus = routesOf(fastify, tusPrepared, TUS_BODY);
  fastify.addHook('onRoute', (route) => {
    if (route.url.endsWith(`${prefix}${FILES_ROUTE}`)) {
      route.url = `${route.url.slice(0, -FILES_ROUTE.length)}${FILES_ROUTE_ON_FASTIFY}`;
    } else if (route.url.endsWith(`${prefix}upload`) && methods(route).includes('POST')) {
      uploads.add(route.url);
    } else if (
      (route.url.endsWith(`${prefix}${TUS_ROUTE}`) && methods(route).includes('POST')) ||
      (route.url.endsWith(`${prefix}${TUS_ROUTE}/:id`) && methods(route).includes('PATCH'))
    ) {
      tus.add(route.url);
    }
  });
}

const MULTIPART = /^multipart\/form-data(?:\s*;|$)/i;
const TUS_BODY = /^application\/offset\+octet-stream(?:\s*;|$)/i;

/**
 * The routes of the module on this instance whose bodies of `type` its one parser for that type
 * lets through.
 */
function routesOf(
  fastify: FastifyInstance,
  registry: WeakMap<object, Set<string>>,
  type: RegExp,
): Set<string> {
  const known = registry.get(fastify);
  if (known) return known;
  const routes = new Set<string>();
  registry.set(fastify, routes);
  fastify.addContentTypeParser(type, (request, _payload, done) => {
    const url = request.routeOptions?.url;
    if (request.is404 || (url !== undefined && routes.has(url))) done(null);
    else done(new UnsupportedMediaTypeException());
  });
  return routes;
}

function methods(route: FastifyRoute): string[] {
  return Array.isArray(route.method) ? route.method : [route.method];
}

/** The file id the files route matched, under Express's name for it or Fastify's. */
export function matchedFileId(params: Record<string, unknown>): string {
  const matched = params.id ?? params[FASTIFY_WILDCARD];
  if (Array.isArray(matched)) return matched.join('/');
  return typeof matched === 'string' ? matched : '';
}
