import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { z } from 'zod';
import type { Logger } from '../infra/logger.js';
import type { Connection } from 'mongoose';
import type { AssessmentService } from '../features/assessments/service.js';
import type { StatementForwarder } from '../xapi/forward/outbox.js';
import { EmailRefused, type MailService } from '../features/email/service.js';
import { accountModels } from '../features/accounts/model.js';
import { curriculumModels } from '../features/curricula/model.js';
import { submissionModels } from '../features/transfer/model.js';
import { remindOverdueReviews } from '../features/transfer/reminders.js';
import type { ReinforcementService } from '../features/reinforcement/service.js';
import type { DeliveryScheduler } from '../features/reinforcement/scheduler.js';
import type { RepSummaries } from '../features/dashboards/summaries.js';

/**
 * Every background job: its name, the shape of its payload (ids only; handlers re-read state)
 * and its handler. The worker refuses to boot when a name has no handler.
 */
export interface JobDeps {
  mongo: Connection;
  log: Logger;
  assessments: AssessmentService;
  forwarding: StatementForwarder;
  email: MailService;
  reinforcement: ReinforcementService;
  deliveries: DeliveryScheduler;
  summaries: RepSummaries;
}

/** The running job, for handlers that move their own job (BullMQ's step-job pattern). */
export interface JobRun {
  job: Job;
  token: string | undefined;
}

export interface JobDefinition<S extends z.ZodType> {
  payload: S;
  handle(deps: JobDeps, data: z.infer<S>, run: JobRun): Promise<unknown>;
  /** repeat schedule, for jobs the worker schedules itself */
  every?: number;
}

export const JOB_NAMES = ['attempts.expire', 'xapi.forward', 'email.send', 'reviews.remindOverdue', 'reinforcement.deliver', 'reinforcement.reconcile', 'dashboards.refreshRep', 'dashboards.refreshAll'] as const;
export type JobName = (typeof JOB_NAMES)[number];

export const JOBS: { [K in JobName]: JobDefinition<z.ZodType> } = {
  'attempts.expire': {
    payload: z.object({ attemptId: z.string().regex(/^[a-f0-9]{24}$/) }).strict(),
    async handle({ assessments }, { attemptId }: { attemptId: string }) {
      await assessments.expire(attemptId);
      return { attemptId };
    },
  },
  // Drains the outbox to the external LRS: kicked (debounced) after statements are stored, and
  // swept on a schedule so that nothing depends on a kick. Throws while the LRS is unavailable,
  // so BullMQ retries with backoff; the statements wait, pending, in the database.
  'xapi.forward': {
    payload: z.object({}).strict(),
    every: 30_000,
    async handle({ forwarding, log }) {
      const result = await forwarding.drain();
      if (result.forwarded || result.failed) log.info(result, 'forwarded xAPI statements');
      return result;
    },
  },
  // Sends one stored email over SMTP, or puts it in the outbox when SMTP_URL is not set. SMTP
  // errors throw, so BullMQ retries with the backoff MailService set on the job; a refusal for good
  // (5xx) or the last try fails the job without retries.
  'email.send': {
    payload: z.object({ messageId: z.string().regex(/^[a-f0-9]{24}$/) }).strict(),
    async handle({ email }, { messageId }: { messageId: string }) {
      try {
        return await email.deliver(messageId);
      } catch (err) {
        if (err instanceof EmailRefused) throw new UnrecoverableError(err.message);
        throw err;
      }
    },
  },
  // Reminds managers of reviews past their due date (the form's dueBusinessDays): each hour it
  // queues a `review-overdue` email per overdue submission; the dedupe key names the day, so a
  // manager hears of one submission at most once a day, until they decide on it.
  'reviews.remindOverdue': {
    payload: z.object({}).strict(),
    every: 3_600_000,
    async handle({ mongo, email, log }) {
      const result = await remindOverdueReviews({ ...submissionModels(mongo), ...accountModels(mongo), ...curriculumModels(mongo) }, email, log);
      if (result.queued || result.skipped) log.info(result, 'reminded managers of overdue reviews');
      return result;
    },
  },
  // One job per rep (id `rf-<userId>`), carrying only the rep's id: it delivers the questions due,
  // then moves itself to the rep's next slot (still holding the rep's lock), so the same job lives
  // on from delivery to delivery and rescheduling never makes a second one. A slot is delivered at
  // most once (the delivery's id is the slot), so a retry or a recovered stalled job repeats nothing.
  'reinforcement.deliver': {
    payload: z.object({ userId: z.string().regex(/^[a-f0-9]{24}$/) }).strict(),
    async handle({ reinforcement, deliveries, log }, { userId }: { userId: string }, { job, token }) {
      let moved = false;
      const outcome = await reinforcement.deliver(userId, async (at) => {
        if (!at) return;
        await job.moveToDelayed(deliveries.timestampFor(at), token);
        moved = true;
      });
      if (outcome.status === 'delivered') log.info({ userId, deliveryId: outcome.deliveryId, next: outcome.next }, 'delivered reinforcement questions');
      if (moved) throw new DelayedError(); // tells BullMQ the job was moved, not finished
      return outcome;
    },
  },
  // The safety net under Redis: a deck whose delivery is overdue and has no job gets one back.
  'reinforcement.reconcile': {
    payload: z.object({}).strict(),
    every: 300_000,
    async handle({ reinforcement }) {
      return reinforcement.reconcile();
    },
  },
  // A rep's dashboard rollup, rebuilt after an event about them (deduplicated per enrollment).
  'dashboards.refreshRep': {
    payload: z.object({ enrollmentId: z.string().regex(/^[a-f0-9]{24}$/) }).strict(),
    async handle({ summaries }, { enrollmentId }: { enrollmentId: string }) {
      return { refreshed: (await summaries.refresh(enrollmentId)) !== null };
    },
  },
  // Every rollup, rebuilt: catches what no event announces (a rep moved to another manager).
  'dashboards.refreshAll': {
    payload: z.object({}).strict(),
    every: 6 * 3_600_000,
    async handle({ summaries, log }) {
      const refreshed = await summaries.refreshAll();
      log.info({ refreshed }, 'rebuilt the dashboard rollups');
      return { refreshed };
    },
  },
};

export function assertRegistryComplete(registry: Partial<Record<string, unknown>> = JOBS): void {
  const missing = JOB_NAMES.filter((name) => typeof (registry[name] as { handle?: unknown } | undefined)?.handle !== 'function');
  if (missing.length) throw new Error(`No handler registered for job(s): ${missing.join(', ')}`);
}
