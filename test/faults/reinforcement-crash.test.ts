import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, type ConnectionOptions, type Job } from 'bullmq';
import getPort from 'get-port';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeckDoc } from '../../src/features/reinforcement/model.js';
import { deliveryJobId } from '../../src/features/reinforcement/scheduler.js';
import { QUEUE_NAME } from '../../src/infra/queue.js';
import { connectRedis } from '../../src/infra/redis.js';
import { cappedBackoff, jobDepsOf, startWorker as startInProcessWorker } from '../../src/jobs/worker.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { DedicatedRedis, endAll, FaultWorker, until } from './support/processes.js';
import { addReps, FakeClock, line, publishCurriculum, settled, tally, type Curriculum, type Rep } from './support/reps.js';

/**
 * Issue 7, "reliability, proven against real Redis": spaced-reinforcement deliveries are neither lost
 * nor doubled when a worker dies inside a delivery, when Redis restarts (cleanly or killed, AOF on),
 * or when two workers run at once. The workers are the real worker code in child processes (see
 * support/worker-process.ts), SIGKILLed where a crash hurts most; the clock is faked (the same
 * offset in the test and in every worker) so that deliveries fall due now, inside the reps' window.
 *
 * "Exactly once" is counted per rep (support/reps.ts `tally`): one delivery document for the slot,
 * still open; one reinforcement email with the delivery's dedupe key, handled by the email job;
 * the deck moved on to its next slot and the rep's one job delayed there; no failed job.
 */

const HOUR = 3_600_000;
const contexts: TestContext[] = [];
const workers: FaultWorker[] = [];
const dirs: string[] = [];

const withTimeout = <T,>(p: Promise<T>, ms: number) => Promise.race([p, new Promise<void>((resolve) => setTimeout(resolve, ms).unref())]);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.end().catch(() => undefined)));
  // bounded: with a test's own Redis down after a failure, the key clean-up would wait for it forever
  for (const ctx of contexts) {
    await withTimeout(ctx.close().catch(() => undefined), 15_000);
    rmSync(ctx.config.dataDir, { recursive: true, force: true });
  }
  await endAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}, 60_000);

async function context(clock: FakeClock, redis?: DedicatedRedis): Promise<{ ctx: TestContext; curriculum: Curriculum }> {
  const ctx = await createTestContext(redis ? { REDIS_URL: redis.url } : {}, { now: clock.now });
  contexts.push(ctx);
  return { ctx, curriculum: await publishCurriculum(ctx.container) };
}

async function startWorker(name: string, ctx: TestContext, clock: FakeClock, o: Partial<Parameters<typeof FaultWorker.start>[1]> = {}): Promise<FaultWorker> {
  const w = await FaultWorker.start(name, { mongodbUrl: ctx.config.mongodbUrl!, redisUrl: ctx.config.redisUrl!, redisPrefix: ctx.config.redisPrefix, offsetMs: clock.offsetMs, ...o });
  workers.push(w);
  return w;
}

/**
 * Moves the test's clock and the workers' to `lead` ms before the reps' slot, and each rep's job with
 * it (the scheduler changes its delay in Redis), as if real time had got there.
 */
async function fastForward(ctx: TestContext, clock: FakeClock, running: FaultWorker[], reps: Rep[], leadMs: number): Promise<void> {
  clock.offsetMs += reps[0]!.slot.getTime() - leadMs - clock.now().getTime();
  await Promise.all(running.map((w) => w.setClock(clock.offsetMs)));
  for (const r of reps) expect(await ctx.container.deliveries.schedule(r.id, r.slot)).toBe('moved');
}

async function waitSettled(what: string, ctx: TestContext, clock: FakeClock, reps: Rep[], ms: number, running: FaultWorker[]) {
  return until(what, () => settled(ctx.container, reps, clock.offsetMs), ms, async () => {
    const t = await tally(ctx.container, reps, clock.offsetMs);
    return `${line(t)}\n${t.problems.join('\n')}\n${running.map((w) => w.tail()).join('\n')}`;
  }, 250);
}

describe('reinforcement deliveries: worker crashes and two workers (shared test Redis)', () => {
  const clock = new FakeClock();
  let ctx: TestContext;
  let curriculum: Curriculum;

  beforeAll(async () => {
    ({ ctx, curriculum } = await context(clock));
  });
  // a worker left running by a failed test would take the next test's jobs on its own clock
  afterEach(async () => {
    await Promise.all(workers.map((w) => w.end()));
  });

  it('(a) a worker SIGKILLed inside deliveries: the next worker completes each of them once', async () => {
    // two reps stopped at each point: delivery stored (no email yet), email queued (delivery not
    // marked, deck not moved), deck moved on (job not moved yet)
    const points = ['delivery-created', 'delivery-created', 'email-queued', 'email-queued', 'deck-saved', 'deck-saved'] as const;
    const reps = await addReps(ctx.container, curriculum, 'crash', points.length, new Date(clock.now().getTime() + HOUR));
    await fastForward(ctx, clock, [], reps, 0);
    const pause = Object.fromEntries(reps.map((r, i) => [r.id, points[i]!]));
    const a = await startWorker('A', ctx, clock, { pause, concurrency: 8 });
    await until('every delivery to reach its crash point in worker A', async () => a.of('paused').length === reps.length, 30_000, () => a.tail());
    const before = await tally(ctx.container, reps, clock.offsetMs);
    await a.kill();

    const b = await startWorker('B', ctx, clock);
    const t = await waitSettled('worker B to complete the deliveries', ctx, clock, reps, 60_000, [b]);
    const retried = (await Promise.all(reps.map((r) => ctx.container.queue.getJob(deliveryJobId(r.id))))).filter((j) => j && j.attemptsMade > 0).length;
    console.log(
      `(a) SIGKILL of worker A inside ${reps.length} deliveries (2 after the delivery was stored, 2 after the email was queued, 2 after the deck moved on; ` +
        `left behind: ${before.delivered} deliveries, ${before.emails} emails, ${before.decksMoved} decks moved on, ${before.jobsAtNextSlot} jobs moved) → worker B: ${line(t)}; jobs retried ${retried}`,
    );
    expect(t.problems).toEqual([]);
    expect({ delivered: t.delivered, duplicates: t.duplicateDeliveries, emails: t.emails, emailDuplicates: t.duplicateEmails, failed: t.failedJobs }).toEqual({ delivered: 6, duplicates: 0, emails: 6, emailDuplicates: 0, failed: 0 });
  }, 150_000);

  it('(c) two worker processes, 100 reps due at once: each rep delivered and emailed once', async () => {
    const [w1, w2, reps] = await Promise.all([startWorker('W1', ctx, clock), startWorker('W2', ctx, clock), addReps(ctx.container, curriculum, 'pair', 100, new Date(clock.now().getTime() + HOUR))]);
    await fastForward(ctx, clock, [w1, w2], reps, 0);
    const t = await waitSettled('two workers to deliver to 100 reps', ctx, clock, reps, 90_000, [w1, w2]);
    const mine = (w: FaultWorker) => new Set(w.of('created').map((m) => m.deliveryId).filter((id) => reps.some((r) => id.startsWith(`${r.id}-`))));
    const [by1, by2] = [mine(w1), mine(w2)];
    const both = [...by1].filter((id) => by2.has(id)).length;
    console.log(`(c) two worker processes on one queue, 100 reps due at once: W1 stored ${by1.size} deliveries, W2 ${by2.size}, both the same one ${both}; ${line(t)}`);
    expect(t.problems).toEqual([]);
    expect({ delivered: t.delivered, duplicates: t.duplicateDeliveries, emails: t.emails, emailDuplicates: t.duplicateEmails, failed: t.failedJobs, both }).toEqual({ delivered: 100, duplicates: 0, emails: 100, emailDuplicates: 0, failed: 0, both: 0 });
    expect(by1.size + by2.size).toBe(100);
    expect(by1.size > 0 && by2.size > 0, 'both workers took deliveries').toBe(true);
  }, 180_000);
});

/**
 * A redis-server of this test's own, with AOF as Onramp runs it (`appendfsync everysec`, as the
 * embedded launcher and the operations guide set it): a clean restart must keep every job; a killed
 * Redis keeps what reached the AOF file; what a machine crash can take with it (the last second,
 * not yet fsynced) the reconcile sweep puts back from the decks.
 */
describe('reinforcement deliveries: Redis restarted under a running worker (own redis-server, AOF everysec)', () => {
  const clock = new FakeClock();
  let ctx: TestContext;
  let curriculum: Curriculum;
  let redis: DedicatedRedis;
  let worker: FaultWorker;

  const jobsPresent = async (reps: Rep[]) => (await Promise.all(reps.map((r) => ctx.container.queue.getJob(deliveryJobId(r.id))))).filter(Boolean).length;
  const reconnected = () => until('the test to reconnect to Redis', async () => ctx.container.redis.status === 'ready' && (await ctx.container.redis.ping()) === 'PONG', 20_000);

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'onramp-faults-redis-'));
    dirs.push(dir);
    redis = new DedicatedRedis(await getPort({ host: '127.0.0.1' }), dir);
    await redis.start();
    ({ ctx, curriculum } = await context(clock, redis));
    worker = await startWorker('R', ctx, clock);
  });

  it('(b1) a clean restart (SHUTDOWN) with 50 deliveries scheduled keeps every job: each delivered once', async () => {
    const reps = await addReps(ctx.container, curriculum, 'clean', 50, new Date(clock.now().getTime() + HOUR));
    await fastForward(ctx, clock, [worker], reps, 4_000);
    await redis.shutdown();
    await redis.start();
    await reconnected();
    const present = await jobsPresent(reps);
    const t = await waitSettled('the deliveries after the restart', ctx, clock, reps, 60_000, [worker]);
    console.log(`(b1) Redis SHUTDOWN + restart with 50 deliveries due in 4 s: jobs after restart ${present}/50; ${line(t)}`);
    expect(present).toBe(50);
    expect(t.problems).toEqual([]);
    expect({ delivered: t.delivered, duplicates: t.duplicateDeliveries, emails: t.emails, failed: t.failedJobs }).toEqual({ delivered: 50, duplicates: 0, emails: 50, failed: 0 });
  }, 120_000);

  it('(b2) Redis SIGKILLed right after scheduling, then its unsynced AOF tail lost: the sweep restores the lost jobs, each delivered once', async () => {
    // the clock first: the jobs below are added 10 s before their slot
    const slot = new Date(clock.now().getTime() + HOUR);
    clock.offsetMs += slot.getTime() - 10_000 - clock.now().getTime();
    await worker.setClock(clock.offsetMs);
    const kept = await addReps(ctx.container, curriculum, 'kill-a', 30, slot);
    const synced = redis.aofSize(); // Redis writes its AOF buffer to the file before it replies (unless a stalled fsync makes it wait)
    const late = await addReps(ctx.container, curriculum, 'kill-b', 20, slot);
    const reps = [...kept, ...late];

    // a process crash: the kernel still has every write Redis made
    await redis.kill();
    await redis.start();
    await reconnected();
    const afterKill = await jobsPresent(reps);

    // a machine crash: the writes after the last fsync (here: the last 20 reps' jobs) are gone
    await redis.kill();
    const lostBytes = redis.loseAofTail(synced);
    await redis.start();
    await reconnected();
    const afterCrash = await jobsPresent(reps);

    // the sweep (the worker runs it every 5 min) only touches decks overdue by a minute: go there
    clock.offsetMs += 10_000 + 65_000;
    await worker.setClock(clock.offsetMs);
    const sweep = await ctx.container.queue.add('reinforcement.reconcile', {}, { jobId: 'faults-reconcile' });
    const swept = await until('the reconcile job', async () => ((await sweep.getState()) === 'completed' ? ((await ctx.container.queue.getJob(sweep.id!))!.returnvalue as { overdue: number; restored: number }) : null), 30_000, () => worker.tail());
    const t = await waitSettled('the deliveries after the crash', ctx, clock, reps, 60_000, [worker]);
    console.log(
      `(b2) Redis SIGKILL after scheduling 50: jobs after restart ${afterKill}/50; SIGKILL + AOF tail cut (${lostBytes} bytes, as an OS crash with everysec can lose): ` +
        `jobs after restart ${afterCrash}/50; reconcile restored ${swept.restored} (overdue ${swept.overdue}); ${line(t)}`,
    );
    expect(afterKill).toBe(50);
    expect(afterCrash).toBeLessThan(50); // the cut did lose jobs: the sweep had something to do
    expect(swept.restored).toBe(50 - afterCrash);
    expect(t.problems).toEqual([]);
    expect({ delivered: t.delivered, duplicates: t.duplicateDeliveries, emails: t.emails, failed: t.failedJobs }).toEqual({ delivered: 50, duplicates: 0, emails: 50, failed: 0 });
  }, 150_000);
});

/**
 * The one job per rep lives from delivery to delivery, and BullMQ counts its failed attempts over
 * that whole life: moving itself to the next slot does not reset them. Once they reach the queue's
 * `attempts` (5) the job is 'failed' and nothing runs it again, except the sweep: it leaves a failed
 * job on the queue board for an hour, then starts it afresh.
 */
describe('reinforcement deliveries: a job that ran out of attempts', () => {
  const clock = new FakeClock();
  let ctx: TestContext;
  let curriculum: Curriculum;

  beforeAll(async () => {
    ({ ctx, curriculum } = await context(clock));
  });

  /** The test plays a worker whose tries fail (the handler throwing while MongoDB is unreachable). */
  async function failTries(job: Job, times: number): Promise<void> {
    const taker = new Worker(QUEUE_NAME, null, { connection: ctx.container.redis as unknown as ConnectionOptions, prefix: `${ctx.config.redisPrefix}:bull`, autorun: false, settings: { backoffStrategy: cappedBackoff } });
    try {
      for (let i = 0; i < times && (await job.getState()) !== 'failed'; i++) {
        if ((await job.getState()) === 'delayed') await job.promote(); // the slot, or the retry's backoff, has come
        const token = `outage-${randomUUID()}`;
        const taken = (await taker.getNextJob(token)) as Job | undefined;
        expect(taken?.id).toBe(job.id);
        await taken!.moveToFailed(new Error('MongoServerSelectionError: connection timed out'), token, false);
      }
    } finally {
      await taker.close();
    }
  }

  /** The real worker, in this process, until `fn` is done. */
  async function withWorker<T>(fn: () => Promise<T>): Promise<T> {
    const workerRedis = connectRedis(ctx.config.redisUrl!, 'faults-in-process-worker');
    const worker = startInProcessWorker(workerRedis, ctx.config.redisPrefix, jobDepsOf(ctx.container), 2);
    try {
      return await fn();
    } finally {
      await worker.close();
      workerRedis.disconnect();
    }
  }

  it('(d) 24 failed tries on one delivery (retried, delivered), one on the next → job failed for good → the sweep starts it again after an hour → delivered once', async () => {
    const [first] = await addReps(ctx.container, curriculum, 'outage', 1, new Date(clock.now().getTime() + HOUR));
    await fastForward(ctx, clock, [], [first!], 0);
    const job = (await ctx.container.queue.getJob(deliveryJobId(first!.id)))!;
    await failTries(job, 24);
    await withWorker(async () => {
      await job.promote(); // past the last backoff
      await waitSettled('the first delivery, on the fifth try', ctx, clock, [first!], 30_000, []);
    });
    const carried = (await ctx.container.queue.getJob(job.id!))!.attemptsMade;

    // the next slot: one failed try is the job's 25th, its last
    const next = (await ctx.container.models.Deck.findById(first!.id).lean<DeckDoc>())!.nextDeliveryAt!;
    const rep = { ...first!, slot: next };
    await fastForward(ctx, clock, [], [rep], 0);
    await failTries(job, 1);
    const state = await job.getState();

    clock.offsetMs += 61_000; // the sweep leaves a deck alone for its first minute overdue
    const withinTheHour = await ctx.container.reinforcement.reconcile();
    // an hour later (BullMQ's own record of when the job failed, moved back)
    const jobKey = `${ctx.config.redisPrefix}:bull:${QUEUE_NAME}:${job.id}`;
    await ctx.container.redis.hset(jobKey, 'finishedOn', Number(await ctx.container.redis.hget(jobKey, 'finishedOn')) - 3_600_001);
    const anHourLater = await ctx.container.reinforcement.reconcile();
    const t = await withWorker(async () => (anHourLater.retried ? waitSettled('the restarted delivery', ctx, clock, [rep], 30_000, []) : tally(ctx.container, [rep], clock.offsetMs)));
    console.log(
      `(d) attempts carried to the next slot: ${carried}; one failed try there left the job ${state}; the sweep within the hour put back ${withinTheHour.restored + withinTheHour.retried}, ` +
        `an hour later ${anHourLater.restored + anHourLater.retried}; ${line(t)}`,
    );
    expect(carried).toBe(24);
    expect(state).toBe('failed');
    expect({ restored: withinTheHour.restored, retried: withinTheHour.retried }).toEqual({ restored: 0, retried: 0 });
    expect({ restored: anHourLater.restored, retried: anHourLater.retried }).toEqual({ restored: 0, retried: 1 });
    expect(t.problems).toEqual([]);
    expect({ delivered: t.delivered, duplicates: t.duplicateDeliveries, emails: t.emails }).toEqual({ delivered: 1, duplicates: 0, emails: 1 });
  }, 90_000);
});
