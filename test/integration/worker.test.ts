import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueEvents, type ConnectionOptions, type Worker } from 'bullmq';
import { connectRedis } from '../../src/infra/redis.js';
import { QUEUE_NAME } from '../../src/infra/queue.js';
import { assertRegistryComplete, JOBS } from '../../src/jobs/registry.js';
import { jobDepsOf, scheduleRepeatingJobs, startWorker } from '../../src/jobs/worker.js';
import { createTestContext, type TestContext } from '../support/context.js';

let ctx: TestContext;
let worker: Worker;
let events: QueueEvents;
const extra: { disconnect(): void }[] = [];

beforeAll(async () => {
  ctx = await createTestContext();
  const redis = connectRedis(ctx.config.redisUrl!, 'test-worker');
  extra.push(redis);
  worker = startWorker(redis, ctx.config.redisPrefix, jobDepsOf(ctx.container));
  await worker.waitUntilReady();
  const eventsRedis = connectRedis(ctx.config.redisUrl!, 'test-events');
  extra.push(eventsRedis);
  events = new QueueEvents(QUEUE_NAME, { connection: eventsRedis as unknown as ConnectionOptions, prefix: `${ctx.config.redisPrefix}:bull` });
  await events.waitUntilReady();
});
afterAll(async () => {
  await worker.close();
  await events.close();
  for (const r of extra) r.disconnect();
  await ctx.close();
});

describe('the worker on real Redis', () => {
  it('fails a job with a bad payload at once, without retries', async () => {
    const job = await ctx.container.queue.add('attempts.expire', { attemptId: 'x' });
    await expect(job.waitUntilFinished(events, 15_000)).rejects.toThrow(/Bad payload/);
    const failed = await ctx.container.queue.getJob(job.id!);
    expect(failed?.attemptsMade).toBe(1);
  });

  it('fails an unknown job name without retries', async () => {
    const job = await ctx.container.queue.add('no.such.job', {});
    await expect(job.waitUntilFinished(events, 15_000)).rejects.toThrow(/Unknown job/);
  });

  it('schedules repeating jobs once, however many workers start, and drops schedules of jobs that are gone', async () => {
    await ctx.container.queue.upsertJobScheduler('sessions.purgeExpired', { every: 3_600_000 }, { name: 'sessions.purgeExpired', data: {} });
    await scheduleRepeatingJobs(ctx.container.queue);
    await scheduleRepeatingJobs(ctx.container.queue);
    const schedulers = await ctx.container.queue.getJobSchedulers();
    expect(schedulers.map((s) => s.key).sort()).toEqual(['dashboards.refreshAll', 'reinforcement.reconcile', 'reviews.remindOverdue', 'xapi.forward']);
  });

  it('refuses to boot when a job has no handler', () => {
    expect(() => assertRegistryComplete({})).toThrow(/attempts.expire, xapi.forward/);
    expect(() => assertRegistryComplete(JOBS)).not.toThrow();
  });
});
