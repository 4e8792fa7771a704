import { UnrecoverableError, Worker, type ConnectionOptions, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE_NAME } from '../infra/queue.js';
import { assertRegistryComplete, JOB_NAMES, JOBS, type JobDeps, type JobName } from './registry.js';
import type { Container } from '../container.js';
import type { Metrics } from '../infra/metrics.js';

/** What the handlers need, and the metrics the worker counts failed attempts in. */
export type WorkerDeps = JobDeps & { metrics: Metrics };

/** What the worker needs, from the container. */
export function jobDepsOf(c: Container): WorkerDeps {
  return { metrics: c.metrics, mongo: c.mongo, log: c.log, assessments: c.assessments, forwarding: c.forwarding, email: c.email, reinforcement: c.reinforcement, deliveries: c.deliveries, summaries: c.summaries };
}

export async function scheduleRepeatingJobs(queue: Queue): Promise<void> {
  for (const [name, def] of Object.entries(JOBS)) {
    if (def.every) await queue.upsertJobScheduler(name, { every: def.every }, { name, data: {} });
  }
  // a schedule whose job is gone from the registry (an older version's) would fail on every run
  for (const s of await queue.getJobSchedulers()) {
    const def = JOBS[s.key as JobName] as { every?: number } | undefined;
    if (!def?.every) await queue.removeJobScheduler(s.key);
  }
}

/**
 * How soon a job whose worker died is taken up again: BullMQ's lock on an active job lasts
 * `lockDuration` and is checked every `stalledInterval` (30 s each by default). Tests shorten them.
 */
export interface WorkerTiming {
  lockDuration?: number;
  stalledInterval?: number;
}

/**
 * `backoff: { type: 'capped' }`: doubling from 2 s, never more than 15 minutes between tries. For
 * jobs with many attempts (a rep's delivery job lives from delivery to delivery, and BullMQ counts
 * its failed tries over its whole life), so a long outage is ridden out without waiting hours.
 */
export function cappedBackoff(attemptsMade: number, type?: string): number {
  if (type !== 'capped') throw new Error(`Unknown backoff type ${String(type)}`);
  return Math.min(2000 * 2 ** Math.max(0, attemptsMade - 1), 15 * 60_000);
}

/** The BullMQ worker: looks up each job's handler, validates its payload, runs it. */
export function startWorker(connection: Redis, prefix: string, deps: WorkerDeps, concurrency = 4, timing: WorkerTiming = {}): Worker {
  assertRegistryComplete();
  const worker = new Worker(
    QUEUE_NAME,
    async (job, token) => {
      const def = JOBS[job.name as JobName];
      if (!def) throw new UnrecoverableError(`Unknown job ${job.name}`);
      const parsed = def.payload.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError(`Bad payload for ${job.name}: ${parsed.error.message}`);
      return def.handle({ ...deps, log: deps.log.child({ job: job.name, jobId: job.id }) }, parsed.data, { job, token });
    },
    { connection: connection as unknown as ConnectionOptions, prefix: `${prefix}:bull`, concurrency, settings: { backoffStrategy: cappedBackoff }, ...timing },
  );
  // every name at 0 from the start, so that the first failure is an increase Prometheus sees
  for (const name of [...JOB_NAMES, 'unknown']) deps.metrics.jobFailures.inc({ job: name }, 0);
  worker.on('failed', (job, err) => {
    deps.log.error({ job: job?.name, jobId: job?.id, err }, 'job failed');
    // a name from the registry, or `unknown`: a job added by hand (Bull Board) cannot add label values
    deps.metrics.jobFailures.inc({ job: JOB_NAMES.includes(job?.name as JobName) ? job!.name : 'unknown' });
  });
  // e.g. "could not renew lock" when a job moved itself to a later slot while its lock was renewed
  worker.on('error', (err) => deps.log.warn({ err }, 'worker error'));
  return worker;
}
