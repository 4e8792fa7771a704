import { Redis } from 'ioredis';
import { withTimeout } from './mongo.js';

/**
 * maxRetriesPerRequest: null is what BullMQ workers require (a blocking command must not be
 * abandoned after a few reconnect attempts).
 */
export function connectRedis(url: string, name: string): Redis {
  return new Redis(url, {
    connectionName: name,
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    lazyConnect: false,
  });
}

export async function pingRedis(redis: Redis, timeoutMs = 1_000): Promise<void> {
  if (redis.status !== 'ready') throw new Error(`Redis connection is ${redis.status}`);
  await withTimeout(redis.ping(), timeoutMs, 'Redis did not answer');
}
