import { randomUUID } from 'node:crypto';
import type { Worker } from 'bullmq';
import getPort from 'get-port';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../../src/infra/redis.js';
import { jobDepsOf, scheduleRepeatingJobs, startWorker } from '../../src/jobs/worker.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { FakeLrs } from './support/fake-lrs.js';
import { until } from './support/processes.js';

/**
 * The external LRS is down while statements are recorded (issue: hardening). Onramp keeps them in
 * its outbox (the statements themselves, `forward: pending`) and the real worker — the BullMQ
 * worker with the repeating jobs `onramp worker` schedules — forwards them once the LRS is back:
 * every statement arrives, each exactly once (by statement id), with nobody draining by hand.
 */

let ctx: TestContext | undefined;
let lrs: FakeLrs | undefined;
let worker: Worker | undefined;
let workerRedis: ReturnType<typeof connectRedis> | undefined;

afterAll(async () => {
  await worker?.close();
  workerRedis?.disconnect();
  await lrs?.close();
  await ctx?.close();
}, 60_000);

describe('external LRS down, then back: the outbox drains by itself', () => {
  let auth: string;

  beforeAll(async () => {
    lrs = new FakeLrs(await getPort({ host: '127.0.0.1' })); // nothing listens there yet: connections are refused
    ctx = await createTestContext({ XAPI_FORWARD_URL: lrs.endpoint, XAPI_FORWARD_KEY: 'onramp', XAPI_FORWARD_SECRET: 'lrs-secret', XAPI_FORWARD_BATCH: '50' });
    const { key, secret } = await ctx.container.lrsCredentials.issue('system', { name: 'Course player', scopes: ['all'] });
    auth = `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;
    workerRedis = connectRedis(ctx.config.redisUrl!, 'faults-lrs-worker');
    await scheduleRepeatingJobs(ctx.container.queue);
    worker = startWorker(workerRedis, ctx.config.redisPrefix, jobDepsOf(ctx.container));
    await worker.waitUntilReady();
  });

  const statement = (id: string, n: number) => ({
    id,
    actor: { objectType: 'Agent', name: `Rep ${n % 9}`, mbox: `mailto:rep${n % 9}@example.com` },
    verb: { id: 'http://adlnet.gov/expapi/verbs/experienced', display: { 'en-US': 'experienced' } },
    object: { objectType: 'Activity', id: `https://lms.example.com/activities/outage-${n}` },
  });

  /** `n` statements through the app's /xapi/statements, 10 a request; the ids the LRS acknowledged. */
  async function record(n: number, from: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i += 10) {
      const batch = Array.from({ length: 10 }, (_, j) => statement(randomUUID(), from + i + j));
      const res = await supertest(ctx!.app).post('/xapi/statements').set({ Authorization: auth, 'X-Experience-API-Version': '1.0.3' }).send(batch).expect(200);
      ids.push(...(res.body as string[]));
    }
    return ids;
  }

  it('keeps every statement recorded while the LRS is down and forwards each once when it is back', async () => {
    const c = ctx!.container;
    // connection refused
    const whileRefused = await record(100, 0);
    await until('a forwarding attempt to fail (connection refused)', async () => ((await c.forwarding.backlog()).oldestPending?.attempts ?? 0) >= 1, 30_000);
    // it answers, but 503
    await lrs!.set('unavailable');
    const while503 = await record(100, 100);
    const during = await until('a forwarding attempt to be answered 503', async () => {
      const b = await c.forwarding.backlog();
      return /answered 503/.test(b.oldestPending?.error ?? '') && b;
    }, 30_000);
    expect(during).toMatchObject({ enabled: true, pending: 200, forwarded: 0, failed: 0 });
    expect(during.oldestPending?.attempts).toBeGreaterThanOrEqual(2); // refused, then 503
    expect(lrs!.deliveries.size).toBe(0);

    await lrs!.set('up');
    const upAt = Date.now();
    const drained = await until('the worker to forward the backlog', async () => {
      const b = await c.forwarding.backlog();
      return b.pending === 0 && b;
    }, 75_000, async () => JSON.stringify(await c.forwarding.backlog()));
    const recoveredMs = Date.now() - upAt;

    const recorded = [...whileRefused, ...while503];
    const lost = recorded.filter((id) => !lrs!.deliveries.has(id));
    const duplicates = [...lrs!.deliveries.values()].filter((n) => n > 1).length;
    const unknown = [...lrs!.deliveries.keys()].filter((id) => !recorded.includes(id));
    console.log(
      `lrs-down: ${recorded.length} statements recorded while down (${whileRefused.length} while connections were refused, ${while503.length} while it answered 503; ` +
        `${during.oldestPending!.attempts} failed attempts on the oldest, ${lrs!.refused} requests answered 503), ` +
        `${recorded.length - lost.length} forwarded after recovery (in ${(recoveredMs / 1000).toFixed(1)} s), ${duplicates} duplicates, ${lost.length} lost`,
    );
    expect(new Set(recorded).size).toBe(200);
    expect(lost).toEqual([]);
    expect(duplicates).toBe(0);
    expect(unknown).toEqual([]);
    expect(drained).toMatchObject({ pending: 0, forwarded: 200, failed: 0 });
  }, 120_000);
});
