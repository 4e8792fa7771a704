import type { Job, Queue } from 'bullmq';

/** The job that delivers a rep's next set of questions. */
export const DELIVER_JOB = 'reinforcement.deliver';

/** One job per rep, always this id: scheduling again moves it, never adds a second. (BullMQ ids may not contain ':'.) */
export const deliveryJobId = (userId: string): string => `rf-${userId}`;

/**
 * The job lives from delivery to delivery, and BullMQ counts failed tries over a job's whole life:
 * many tries, spaced by the worker's capped backoff (at most 15 minutes apart), so that failures
 * spread over months never add up to a job failed for good. (One that does is restarted by the
 * recovery sweep an hour later.)
 */
export const JOB_OPTIONS = { attempts: 25, backoff: { type: 'capped' } } as const;

/** What the job carries: the rep's id and nothing else (the worker reads the deck when it runs). */
export interface DeliveryJobData {
  userId: string;
}

/**
 * Puts each rep's next delivery in Redis as one delayed job. The deck in the database is the
 * truth (its `nextDeliveryAt`); this only makes the worker wake at that time.
 *
 * `now` is the clock slots are computed with: the scheduler turns a slot into a BullMQ delay
 * measured from it, so a test's fast-forwarded clock and Redis's real one stay consistent.
 */
export class DeliveryScheduler {
  constructor(
    private readonly queue: Queue,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private delayUntil(at: Date): number {
    return Math.max(0, at.getTime() - this.now().getTime());
  }

  /** The real (Redis) timestamp the job should run at. */
  timestampFor(at: Date): number {
    return Date.now() + this.delayUntil(at);
  }

  /**
   * Moves the rep's job to `at` (or drops it when `at` is null). Called with the rep's lock held,
   * so it never races the worker delivering for the same rep:
   *  - no job, or a finished one → a new job with the rep's id;
   *  - delayed → its delay changes in place (atomic in Redis);
   *  - waiting or active → left alone: the worker reads the deck when it runs and moves the job to
   *    the deck's next delivery itself.
   */
  async schedule(userId: string, at: Date | null): Promise<'added' | 'moved' | 'left' | 'removed'> {
    const id = deliveryJobId(userId);
    const job = (await this.queue.getJob(id)) as Job<DeliveryJobData> | undefined;
    const state = job ? await job.getState() : 'missing';
    if (at === null) {
      if (job && (state === 'delayed' || state === 'completed' || state === 'failed')) {
        await job.remove().catch(() => undefined);
        return 'removed';
      }
      return 'left';
    }
    if (state === 'delayed') {
      try {
        await job!.changeDelay(this.delayUntil(at));
        return 'moved';
      } catch {
        return 'left'; // promoted meanwhile: the worker will read the deck
      }
    }
    if (state === 'completed' || state === 'failed' || state === 'unknown') await job?.remove().catch(() => undefined);
    else if (state !== 'missing') return 'left';
    await this.queue.add(DELIVER_JOB, { userId } satisfies DeliveryJobData, { ...JOB_OPTIONS, jobId: id, delay: this.delayUntil(at) });
    return 'added';
  }

  /**
   * Makes sure every one of these reps has a delivery job, in one round trip per chunk (BullMQ's
   * addBulk). A rep whose job exists keeps it unchanged: this is for the recovery sweep and for
   * scheduling many reps at once (an import, a new curriculum), not for moving existing jobs.
   */
  async ensureMany(entries: { userId: string; at: Date }[], chunk = 1000): Promise<number> {
    for (let i = 0; i < entries.length; i += chunk) {
      await this.queue.addBulk(
        entries.slice(i, i + chunk).map((e) => ({ name: DELIVER_JOB, data: { userId: e.userId } satisfies DeliveryJobData, opts: { ...JOB_OPTIONS, jobId: deliveryJobId(e.userId), delay: this.delayUntil(e.at) } })),
      );
    }
    return entries.length;
  }

  /** The rep's job's state and when it finished (failed), for the recovery sweep. */
  async state(userId: string): Promise<{ state: string; finishedOn: number | null }> {
    const job = await this.queue.getJob(deliveryJobId(userId));
    if (!job) return { state: 'missing', finishedOn: null };
    return { state: await job.getState(), finishedOn: job.finishedOn ?? null };
  }
}
