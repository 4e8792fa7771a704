import type { Connection } from 'mongoose';
import type { Redis } from 'ioredis';
import type { Queue } from 'bullmq';
import type MongoStore from 'connect-mongo';
import type { Config } from './config/env.js';
import type { Logger } from './infra/logger.js';
import { connectMongo, pingMongo } from './infra/mongo.js';
import { connectRedis, pingRedis } from './infra/redis.js';
import { createQueue } from './infra/queue.js';
import { createSessionStore } from './infra/sessions.js';
import { RedisLocker } from './infra/locks.js';
import { accountModels, type AccountModels } from './features/accounts/model.js';
import { AccountService } from './features/accounts/service.js';
import { curriculumModels, type CurriculumModels } from './features/curricula/model.js';
import { CurriculumService } from './features/curricula/service.js';
import { enrollmentModels, type EnrollmentModels } from './features/enrollment/model.js';
import { EnrollmentService } from './features/enrollment/service.js';
import { liveSessionModels, type LiveSessionModels } from './features/sessions/model.js';
import { LiveSessionService } from './features/sessions/service.js';
import { assessmentModels, type AssessmentModels } from './features/assessments/model.js';
import { AssessmentService } from './features/assessments/service.js';
import { AssessmentAnalytics } from './features/assessments/analytics.js';
import { LrsCredentialService, lrsCredentialModels, type LrsCredentialModels } from './xapi/lrs/credentials.js';
import { StatementStore } from './xapi/lrs/store.js';
import { AttachmentStore } from './xapi/lrs/attachments.js';
import { StatementsService } from './xapi/lrs/statements.js';
import { LearningRecorder } from './xapi/recorder.js';

/**
 * The composition root: infrastructure → models → services, wired once. The HTTP app, the
 * worker, the CLI and the tests all build on one of these.
 */
export interface Container {
  config: Config;
  log: Logger;
  mongo: Connection;
  redis: Redis;
  queue: Queue;
  sessionStore: MongoStore;
  models: AccountModels & CurriculumModels & EnrollmentModels & LiveSessionModels & AssessmentModels & LrsCredentialModels;
  accounts: AccountService;
  curricula: CurriculumService;
  enrollments: EnrollmentService;
  sessions: LiveSessionService;
  assessments: AssessmentService;
  assessmentAnalytics: AssessmentAnalytics;
  lrsCredentials: LrsCredentialService;
  statements: StatementsService;
  /** MongoDB and Redis both answer (what /readyz reports) */
  readiness(): Promise<{ mongo: string; redis: string; ok: boolean }>;
  close(): Promise<void>;
}

export async function createContainer(config: Config & { mongodbUrl: string; redisUrl: string }, log: Logger, name = 'web'): Promise<Container> {
  const mongo = await connectMongo(config.mongodbUrl);
  const redis = connectRedis(config.redisUrl, `onramp-${name}`);
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  const queue = createQueue(redis, config.redisPrefix);
  queue.on('error', (err) => log.warn({ err: err.message }, 'queue error'));
  const models = { ...accountModels(mongo), ...curriculumModels(mongo), ...enrollmentModels(mongo), ...liveSessionModels(mongo), ...assessmentModels(mongo), ...lrsCredentialModels(mongo) };
  await Promise.all(Object.values(models).map((m) => m.init())); // indexes exist before the first write
  const accounts = new AccountService(models);
  const curricula = new CurriculumService(models);
  const statementStore = new StatementStore(mongo);
  await statementStore.ensureIndexes();
  const locks = new RedisLocker(redis, config.redisPrefix);
  const enrollments = new EnrollmentService(models, curricula, accounts, locks);
  const sessionStore = createSessionStore(mongo, Math.round(config.sessionMaxAgeMs / 1000));

  const statements = new StatementsService(statementStore, new AttachmentStore(mongo));
  const recorder = new LearningRecorder(statements, { baseIri: config.xapiActivityBase, platform: 'Onramp', homePage: config.publicUrl }, log);
  enrollments.listen(recorder);
  const assessments = new AssessmentService(models, curricula, enrollments, locks, {
    // the worker scores a timed attempt nobody came back to; the job id makes it one job per attempt
    expireAt: async (attemptId, at) => {
      await queue.add('attempts.expire', { attemptId }, { jobId: `attempt-expire-${attemptId}`, delay: Math.max(0, at.getTime() - Date.now()) + 10_000 });
    },
  });
  assessments.listen(recorder);

  return {
    config,
    log,
    mongo,
    redis,
    queue,
    sessionStore,
    models,
    accounts,
    curricula,
    enrollments,
    sessions: new LiveSessionService(models, enrollments, locks),
    assessmentAnalytics: new AssessmentAnalytics(models, curricula),
    lrsCredentials: new LrsCredentialService(models),
    statements,
    assessments,
    async readiness() {
      const [m, r] = await Promise.allSettled([pingMongo(mongo), pingRedis(redis)]);
      const mongoState = m.status === 'fulfilled' ? 'ok' : (m.reason as Error).message;
      const redisState = r.status === 'fulfilled' ? 'ok' : (r.reason as Error).message;
      return { mongo: mongoState, redis: redisState, ok: mongoState === 'ok' && redisState === 'ok' };
    },
    async close() {
      await queue.close().catch(() => undefined);
      await sessionStore.close().catch(() => undefined);
      redis.disconnect();
      await mongo.close().catch(() => undefined);
    },
  };
}
