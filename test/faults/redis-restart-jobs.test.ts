import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job, Worker } from 'bullmq';
import getPort from 'get-port';
import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../../src/infra/redis.js';
import { jobDepsOf, startWorker } from '../../src/jobs/worker.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { FakeLrs } from './support/fake-lrs.js';
import { DedicatedRedis, endAll, until } from './support/processes.js';
import { SmtpSink } from './support/smtp-sink.js';

/**
 * Redis restarted under a running worker with jobs of every kind queued (issue: hardening; the
 * reinforcement jobs have their own test in reinforcement-crash.test.ts): emails (`email.send`, one
 * job each), statements for the external LRS (`xapi.forward`, kicked with a delay and deduplicated)
 * and delayed jobs (`attempts.expire`, as a timed attempt schedules it). Redis is stopped as an
 * operator or a container platform stops it (SHUTDOWN: the AOF is written and fsynced) and started
 * again on the same port and folder. Every job that was acknowledged (queue.add returned) must
 * still run, and its effect happen once: each email received once by the SMTP server, each
 * statement once by the LRS.
 */

const dirs: string[] = [];
let ctx: TestContext | undefined;
let redis: DedicatedRedis | undefined;
let worker: Worker | undefined;
let workerRedis: ReturnType<typeof connectRedis> | undefined;
const sink = new SmtpSink();
let lrs: FakeLrs | undefined;

const withTimeout = <T,>(p: Promise<T>, ms: number) => Promise.race([p, new Promise<void>((resolve) => setTimeout(resolve, ms).unref())]);

afterAll(async () => {
  await worker?.close();
  workerRedis?.disconnect();
  if (ctx) await withTimeout(ctx.close().catch(() => undefined), 15_000); // bounded: a Redis left down would hold the clean-up forever
  await endAll();
  await lrs?.close();
  await sink.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}, 60_000);

describe('Redis restarted (SHUTDOWN, AOF everysec) with emails, forwards and delayed jobs queued', () => {
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'onramp-faults-redis-jobs-'));
    dirs.push(dir);
    redis = new DedicatedRedis(await getPort({ host: '127.0.0.1' }), dir);
    await redis.start();
    lrs = new FakeLrs(await getPort({ host: '127.0.0.1' }));
    await lrs.set('up');
    const smtpPort = await sink.listen();
    ctx = await createTestContext({
      REDIS_URL: redis.url,
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      XAPI_FORWARD_URL: lrs.endpoint,
      XAPI_FORWARD_KEY: 'onramp',
      XAPI_FORWARD_SECRET: 'lrs-secret',
    });
    workerRedis = connectRedis(redis.url, 'faults-redis-jobs-worker');
    workerRedis.on('error', () => undefined); // restarted under it: ioredis reconnects
    worker = startWorker(workerRedis, ctx.config.redisPrefix, jobDepsOf(ctx.container), 4);
    await worker.waitUntilReady();
  });

  it('runs every acknowledged job after the restart, each effect once', async () => {
    const c = ctx!.container;
    const runs = new Map<string, number>();
    worker!.on('active', (job: Job) => runs.set(job.id!, (runs.get(job.id!) ?? 0) + 1));
    sink.delayMs = 300; // a slow mail server: emails are still waiting and running when Redis stops

    const emails = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        c.email.send({ to: `manager${i}@faults.test`, template: 'review-requested', data: { managerName: 'Maria', repName: `Rep ${i}`, itemTitle: 'Discovery call plan', link: `/reviews/${i}` }, dedupeKey: `faults-redis:${i}` }),
      ),
    );
    const emailIds = emails.map((e) => e.id!);
    const authority = { objectType: 'Agent', name: 'Onramp', account: { homePage: ctx!.config.publicUrl, name: 'onramp' } };
    const statements: string[] = [];
    for (let b = 0; b < 4; b++) {
      const batch = Array.from({ length: 25 }, (_, i) => ({
        id: randomUUID(),
        actor: { objectType: 'Agent', mbox: `mailto:rep${i}@faults.test` },
        verb: { id: 'http://adlnet.gov/expapi/verbs/experienced' },
        object: { objectType: 'Activity', id: `https://lms.example.com/redis-restart/${b}/${i}` },
      }));
      statements.push(...(await c.statements.save(batch, authority)));
    }
    // what a timed attempt schedules (container.ts, expireAt): one delayed job per attempt, here due
    // 4 s on, when Redis is back (for attempt ids without an attempt: the handler finds none, a no-op)
    const delayed = Array.from({ length: 10 }, () => String(new Types.ObjectId()));
    for (const attemptId of delayed) await c.queue.add('attempts.expire', { attemptId }, { jobId: `attempt-expire-${attemptId}`, delay: 4_000 });
    const delayedJobIds = delayed.map((id) => `attempt-expire-${id}`);
    const emailJobIds = emailIds.map((id) => `email-${id}`);

    const sentBefore = sink.received.length;
    const forwardedBefore = lrs!.deliveries.size;
    const activeAtStop = await c.queue.getActiveCount();
    const stoppedAt = Date.now();
    await redis!.shutdown();
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // the running emails finish meanwhile: their jobs' completion waits for Redis
    await redis!.start();
    await until('the app to reconnect to Redis', async () => c.redis.status === 'ready' && (await c.redis.ping()) === 'PONG', 20_000);
    const downMs = Date.now() - stoppedAt;
    const present = (await Promise.all([...emailJobIds, ...delayedJobIds].map((id) => c.queue.getJob(id)))).filter(Boolean).length;

    await until(
      'every job to have run',
      async () => {
        if (new Set(sink.received.map((r) => r.messageId)).size < emailIds.length || lrs!.deliveries.size < statements.length) return false;
        const states = await Promise.all(delayedJobIds.map(async (id) => (await c.queue.getJob(id))?.getState()));
        if (states.some((s) => s !== 'completed')) return false;
        return (await c.models.EmailMessage.countDocuments({ _id: { $in: emailIds }, status: 'sent' })) === emailIds.length;
      },
      60_000,
      async () => `received ${sink.received.length}, forwarded ${lrs!.deliveries.size}, jobs ${JSON.stringify(await c.queue.getJobCounts())}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // a late second run would show here

    const copies = sink.copies();
    const emailDuplicates = [...copies.values()].filter((n) => n > 1).length;
    const forwardDuplicates = [...lrs!.deliveries.values()].filter((n) => n > 1).length;
    const ranTwice = [...emailJobIds, ...delayedJobIds].filter((id) => (runs.get(id) ?? 0) > 1);
    const neverRan = [...emailJobIds, ...delayedJobIds].filter((id) => !runs.has(id));
    const failed = await c.queue.getJobs(['failed']);
    console.log(
      `redis-restart: queued ${emailIds.length} emails, ${statements.length} statements to forward, ${delayed.length} delayed jobs; Redis down ${(downMs / 1000).toFixed(1)} s ` +
        `(${sentBefore} emails and ${forwardedBefore} statements out before it, ${activeAtStop} jobs running when it stopped); jobs after restart ${present}/${emailJobIds.length + delayedJobIds.length}; ` +
        `emails received ${copies.size}/${emailIds.length} (${emailDuplicates} duplicates), statements forwarded ${lrs!.deliveries.size}/${statements.length} (${forwardDuplicates} duplicates), ` +
        `delayed jobs run ${delayedJobIds.filter((id) => runs.has(id)).length}/${delayed.length}; jobs run twice ${ranTwice.length}, never ${neverRan.length}, failed ${failed.length}`,
    );
    expect(sentBefore, 'Redis stopped while emails were still queued').toBeLessThan(emailIds.length);
    expect(present).toBe(emailJobIds.length + delayedJobIds.length);
    expect({ received: copies.size, emailDuplicates, forwarded: lrs!.deliveries.size, forwardDuplicates }).toEqual({ received: emailIds.length, emailDuplicates: 0, forwarded: statements.length, forwardDuplicates: 0 });
    expect([...lrs!.deliveries.keys()].sort()).toEqual([...statements].sort());
    expect(neverRan).toEqual([]);
    expect(ranTwice).toEqual([]);
    expect(failed.map((j) => `${j.name} ${j.id}: ${j.failedReason}`)).toEqual([]);
  }, 120_000);
});
