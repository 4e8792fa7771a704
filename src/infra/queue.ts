import { Queue, type ConnectionOptions } from 'bullmq';
import type { Redis } from 'ioredis';

/** One queue for all background work; job names route to handlers (src/jobs/registry.ts). */
export const QUEUE_NAME = 'onramp';

export function createQueue(connection: Redis, prefix: string): Queue {
  return new Queue(QUEUE_NAME, {
    connection: connection as unknown as ConnectionOptions,
    prefix: `${prefix}:bull`,
    defaultJobOptions: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 2_000 },
      removeOnComplete: { age: 24 * 3600, count: 1000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  });
}
