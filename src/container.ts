import type { Connection } from 'mongoose';
import type { Redis } from 'ioredis';
import type { Queue } from 'bullmq';
import type { Config } from './config/env.js';
import type { Logger } from './infra/logger.js';
import { connectMongo, pingMongo } from './infra/mongo.js';
import { connectRedis, pingRedis } from './infra/redis.js';
import { createQueue } from './infra/queue.js';
import { createMetrics, type Metrics } from './infra/metrics.js';
import { createSessionStore, type RedisSessionStore } from './infra/sessions.js';
import { RedisLocker } from './infra/locks.js';
import { accountModels, type AccountModels } from './features/accounts/model.js';
import { AccountService } from './features/accounts/service.js';
import { curriculumModels, type CurriculumModels } from './features/curricula/model.js';
import { CurriculumService } from './features/curricula/service.js';
import { enrollmentModels, type EnrollmentModels } from './features/enrollment/model.js';
import { EnrollmentService } from './features/enrollment/service.js';
import { liveSessionModels, type LiveSessionModels } from './features/sessions/model.js';
import { LiveSessionService } from './features/sessions/service.js';
import { submissionModels, type SubmissionModels } from './features/transfer/model.js';
import { TransferService } from './features/transfer/service.js';
import { pdfPool, renderPdf } from './features/transfer/pdf-pool.js';
import { ReviewService } from './features/transfer/review.js';
import { ApprovedDocuments } from './features/transfer/archive.js';
import { ReviewDelegates } from './features/transfer/delegates.js';
import { documentInput } from './features/transfer/document-input.js';
import { TransferMailer } from './features/transfer/notify.js';
import { assessmentModels, type AssessmentModels } from './features/assessments/model.js';
import { AssessmentService } from './features/assessments/service.js';
import { AssessmentAnalytics } from './features/assessments/analytics.js';
import { LrsCredentialService, lrsCredentialModels, type LrsCredentialModels } from './xapi/lrs/credentials.js';
import { createStatementStore, type StatementForwarder } from './xapi/forward/index.js';
import { AttachmentStore } from './xapi/lrs/attachments.js';
import { StatementsService } from './xapi/lrs/statements.js';
import { LearningRecorder } from './xapi/recorder.js';
import { DocumentService, DocumentStore } from './xapi/lrs/documents.js';
import { Cmi5Service } from './xapi/cmi5/service.js';
import { Cmi5Store } from './xapi/cmi5/store.js';
import { emailModels, type EmailModels } from './features/email/model.js';
import { MailService, smtpMailer } from './features/email/service.js';
import { EmailTemplates } from './features/email/templates.js';
import { reinforcementModels, type ReinforcementModels } from './features/reinforcement/model.js';
import { ReinforcementService } from './features/reinforcement/service.js';
import { DeliveryScheduler } from './features/reinforcement/scheduler.js';
import { RepSummaries, SummaryRefresher, summaryModels, type SummaryModels } from './features/dashboards/summaries.js';
import { AuditLog } from './features/audit/service.js';
import { cellModels, DashboardCells, type CellModels } from './features/dashboards/cells.js';

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
  sessionStore: RedisSessionStore;
  /** this process's Prometheus registry and metrics (served at /metrics; the worker's on METRICS_PORT) */
  metrics: Metrics;
  models: AccountModels & CurriculumModels & EnrollmentModels & LiveSessionModels & AssessmentModels & LrsCredentialModels & SubmissionModels & EmailModels & ReinforcementModels & SummaryModels & CellModels;
  accounts: AccountService;
  curricula: CurriculumService;
  enrollments: EnrollmentService;
  sessions: LiveSessionService;
  assessments: AssessmentService;
  /** transfer activities: the guided builder's drafts and submissions for review */
  transfer: TransferService;
  /** transfer activities: the manager's reviews, coaching record and confirmed results */
  reviews: ReviewService;
  /** the PDFs of approved versions, kept with their submissions */
  approvedDocuments: ApprovedDocuments;
  /** who reviews for a manager who is away (set by admins) */
  reviewDelegates: ReviewDelegates;
  assessmentAnalytics: AssessmentAnalytics;
  lrsCredentials: LrsCredentialService;
  statements: StatementsService;
  /** the xAPI State, Activity Profile and Agent Profile documents */
  documents: DocumentService;
  /** cmi5 packages, launches and AU sessions */
  cmi5: Cmi5Service;
  /** forwarding of every statement to an external LRS (XAPI_FORWARD_URL), and its backlog */
  forwarding: StatementForwarder;
  /** email: stored, then sent by the worker (SMTP_URL) or kept in the outbox */
  email: MailService;
  /** spaced reinforcement: decks, deliveries, answers */
  reinforcement: ReinforcementService;
  /** the one delayed delivery job per rep */
  deliveries: DeliveryScheduler;
  /** the per-enrollment rollups the dashboards read */
  summaries: RepSummaries;
  /** who did what to what: admin actions, credentials, reviews and grades (append-only `audit_log`) */
  audit: AuditLog;
  /** the trainer dashboard's rollup: one row per enrollment, in cells per curriculum, version, cohort and manager */
  cells: DashboardCells;
  /** MongoDB and Redis both answer (what /readyz reports) */
  readiness(): Promise<{ mongo: string; redis: string; ok: boolean }>;
  close(): Promise<void>;
}

/** `now`: the clock reinforcement schedules with (tests fast-forward it). */
export async function createContainer(config: Config & { mongodbUrl: string; redisUrl: string }, log: Logger, name = 'web', options: { now?: () => Date } = {}): Promise<Container> {
  const mongo = await connectMongo(config.mongodbUrl);
  const redis = connectRedis(config.redisUrl, `onramp-${name}`);
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  const queue = createQueue(redis, config.redisPrefix);
  queue.on('error', (err) => log.warn({ err: err.message }, 'queue error'));
  const metrics = createMetrics(log);
  const models = { ...accountModels(mongo), ...curriculumModels(mongo), ...enrollmentModels(mongo), ...liveSessionModels(mongo), ...assessmentModels(mongo), ...lrsCredentialModels(mongo), ...submissionModels(mongo), ...emailModels(mongo), ...reinforcementModels(mongo), ...summaryModels(mongo), ...cellModels(mongo) };
  await Promise.all(Object.values(models).map((m) => m.init())); // indexes exist before the first write
  const audit = new AuditLog(mongo, log);
  await audit.init();
  const accounts = new AccountService(models, audit);
  const curricula = new CurriculumService(models, audit, new Cmi5Store(mongo));
  const { statementStore, forwarding } = createStatementStore(mongo, redis, queue, config, log);
  await statementStore.ensureIndexes();
  const locks = new RedisLocker(redis, config.redisPrefix);
  const enrollments = new EnrollmentService(models, curricula, accounts, locks);
  const sessionStore = createSessionStore(redis, config.redisPrefix, Math.round(config.sessionMaxAgeMs / 1000));

  const statements = new StatementsService(statementStore, new AttachmentStore(mongo), undefined, (stored) => metrics.statementsStored.inc(stored));
  const recorder = new LearningRecorder(statements, { baseIri: config.xapiActivityBase, platform: 'Onramp', homePage: config.publicUrl }, log);
  enrollments.listen(recorder);
  const assessments = new AssessmentService(models, curricula, enrollments, locks, {
    // the worker scores a timed attempt nobody came back to; the job id makes it one job per attempt
    expireAt: async (attemptId, at) => {
      await queue.add('attempts.expire', { attemptId }, { jobId: `attempt-expire-${attemptId}`, delay: Math.max(0, at.getTime() - Date.now()) + 10_000 });
    },
  });
  assessments.listen(recorder);
  const sessions = new LiveSessionService(models, enrollments, locks, undefined, audit);
  sessions.listen(recorder);
  const transfer = new TransferService(models, curricula, enrollments, accounts, locks);
  const approvedDocuments = new ApprovedDocuments(mongo);
  const reviewDelegates = new ReviewDelegates(mongo, models, audit);
  const reviews = new ReviewService(
    models,
    curricula,
    enrollments,
    locks,
    undefined,
    undefined,
    async (doc, rep) => {
      const input = await documentInput({ curricula, users: models.User, publicUrl: config.publicUrl }, doc, rep, undefined);
      return approvedDocuments.keep(String(doc._id), input.version, await renderPdf('script', input));
    },
    reviewDelegates,
    audit,
  );
  transfer.events.listen(recorder);
  reviews.events.listen(recorder);

  const documents = new DocumentService(new DocumentStore(mongo), undefined, (err) => log.warn({ err }, 'xapi_documents indexes could not be created'));
  const lrsCredentials = new LrsCredentialService(models, audit);
  const catalogueConfig = { baseIri: config.xapiActivityBase, platform: 'Onramp', homePage: config.publicUrl };
  const cmi5 = new Cmi5Service(mongo, { publicUrl: config.publicUrl, contentUrl: config.cmi5ContentUrl, catalogue: catalogueConfig, curricula, enrollments, statements, documents, locks, log });
  await cmi5.ensureIndexes();
  lrsCredentials.acceptSessions((key, secret) => cmi5.authenticate(key, secret));
  const mailer = config.smtpUrl ? smtpMailer(config.smtpUrl) : undefined;
  const email = new MailService(models, new EmailTemplates(config.publicUrl), queue, mailer, log, { from: config.mailFrom });
  const reviewMail = new TransferMailer(email, log);
  transfer.events.listen(reviewMail);
  reviews.events.listen(reviewMail);
  const deliveries = new DeliveryScheduler(queue, options.now);
  // waits longer than a lock lives: a worker that died holding a rep's lock delays the next one, never fails it
  const reinforcement = new ReinforcementService(models, curricula, deliveries, new RedisLocker(redis, config.redisPrefix, 10_000, 12_000), log, email, options.now);
  enrollments.listen(reinforcement);
  reinforcement.listen(recorder);
  const cells = new DashboardCells(models, locks);
  const summaries = new RepSummaries(models, cells, curricula, log);
  const refresher = new SummaryRefresher(queue, log);
  enrollments.listen(refresher);
  reinforcement.listen(refresher);
  transfer.events.listen(refresher);
  reviews.events.listen(refresher);
  if (new URL(config.cmi5ContentUrl).origin === new URL(config.publicUrl).origin && name === 'web') {
    log.warn('cmi5 content is served from Onramp\'s own origin: set CMI5_CONTENT_URL to a second host name of this server so course packages cannot reach Onramp pages');
  }

  return {
    config,
    log,
    mongo,
    redis,
    queue,
    sessionStore,
    metrics,
    models,
    accounts,
    curricula,
    enrollments,
    sessions,
    assessmentAnalytics: new AssessmentAnalytics(models, curricula),
    lrsCredentials,
    statements,
    documents,
    cmi5,
    forwarding,
    assessments,
    email,
    transfer,
    reviews,
    approvedDocuments,
    reviewDelegates,
    reinforcement,
    deliveries,
    summaries,
    audit,
    cells,
    async readiness() {
      const [m, r] = await Promise.allSettled([pingMongo(mongo), pingRedis(redis)]);
      const mongoState = m.status === 'fulfilled' ? 'ok' : (m.reason as Error).message;
      const redisState = r.status === 'fulfilled' ? 'ok' : (r.reason as Error).message;
      return { mongo: mongoState, redis: redisState, ok: mongoState === 'ok' && redisState === 'ok' };
    },
    async close() {
      await queue.close().catch(() => undefined);
      mailer?.close();
      await pdfPool.close(); // the PDF thread, if a download started it
      redis.disconnect();
      await mongo.close().catch(() => undefined);
    },
  };
}
