import { UnrecoverableError, Worker, type ConnectionOptions, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE_NAME } from '../infra/queue.js';
import { assertRegistryComplete, JOBS, type JobDeps, type JobName } from './registry.js';

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

/** The BullMQ worker: looks up each job's handler, validates its payload, runs it. */
export function startWorker(connection: Redis, prefix: string, deps: JobDeps, concurrency = 4): Worker {
  assertRegistryComplete();
  const worker = new Worker(
    QUEUE_NAME,
    async (job) => {
      const def = JOBS[job.name as JobName];
      if (!def) throw new UnrecoverableError(`Unknown job ${job.name}`);
      const parsed = def.payload.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError(`Bad payload for ${job.name}: ${parsed.error.message}`);
      return def.handle({ ...deps, log: deps.log.child({ job: job.name, jobId: job.id }) }, parsed.data);
    },
    { connection: connection as unknown as ConnectionOptions, prefix: `${prefix}:bull`, concurrency },
  );
  worker.on('failed', (job, err) => deps.log.error({ job: job?.name, jobId: job?.id, err }, 'job failed'));
  return worker;
}
