import type { INestApplication, NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { FastifyAdapter } from '@nestjs/platform-fastify';

/** What Fastify's adapter takes, such as `multipart: true` for Nest's upload interceptors. */
export type FastifyAdapterOptions = NonNullable<ConstructorParameters<typeof FastifyAdapter>[0]>;

/** The HTTP adapters the library supports; every HTTP test runs once on each. */
export const PLATFORMS = ['express', 'fastify'] as const;

export type HttpPlatform = (typeof PLATFORMS)[number];

/** `HTTP_PLATFORM` as the sample app reads it: Express unless it says `fastify`. */
export function platformFromEnvironment(value = process.env.HTTP_PLATFORM): HttpPlatform {
  return value === 'fastify' ? 'fastify' : 'express';
}

/**
 * A Nest HTTP app of `module` on the platform's adapter. Fastify's adapter is loaded only when
 * asked for, as an app on Express never loads it.
 */
export async function createHttpApp(
  module: object,
  platform: HttpPlatform,
  options: NestApplicationOptions = {},
  fastify?: FastifyAdapterOptions,
): Promise<INestApplication> {
  if (platform === 'express') return NestFactory.create(module, options);
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  return NestFactory.create(module, new FastifyAdapter(fastify), options);
}
