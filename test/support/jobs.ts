import { Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Container } from '../../src/container.js';
import { QUEUE_NAME } from '../../src/infra/queue.js';

/**
 * A job in the container's queue that has failed for good (one attempt, `reason` as its error),
 * without running any handler: a worker that only takes the job and fails it.
 */
export async function failedJob(c: Container, name: string, data: Record<string, unknown>, jobId: string, reason: string): Promise<Job> {
  await c.queue.add(name, data, { jobId, attempts: 1, lifo: true }); // lifo: next out, ahead of any waiting job
  const worker = new Worker(QUEUE_NAME, null, { connection: c.redis as unknown as ConnectionOptions, prefix: `${c.config.redisPrefix}:bull`, autorun: false });
  try {
    const token = `test-${jobId}`;
    const job = (await worker.getNextJob(token)) as Job | undefined;
    if (job?.id !== jobId) throw new Error(`expected job ${jobId} to be next, got ${job?.id}`);
    await job.moveToFailed(new Error(reason), token, false);
    return job;
  } finally {
    await worker.close();
  }
}
