import { Redis, type RedisOptions } from 'ioredis';

/**
 * One PING with no retries, so a sample can say in one line that Redis is missing; BullMQ would
 * otherwise retry forever and print a stack trace per try.
 */
export async function redisIsUp(options: RedisOptions): Promise<boolean> {
  const redis = new Redis({
    ...options,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}
