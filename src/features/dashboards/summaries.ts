import { Schema, Types, type Connection, type Model } from 'mongoose';
import type { Queue } from 'bullmq';
import { summarize, type RepSummary } from '../../engine/rep-summary.js';
import { streakOf } from '../../engine/reinforcement.js';
import type { Logger } from '../../infra/logger.js';
import type { AccountModels } from '../accounts/model.js';
import type { CurriculumService } from '../curricula/service.js';
import type { EnrollmentDoc, EnrollmentModels } from '../enrollment/model.js';
import type { EnrollmentListener } from '../enrollment/service.js';
import type { ReinforcementModels } from '../reinforcement/model.js';
import type { ReinforcementAnswer, ReinforcementListener } from '../reinforcement/service.js';
import type { SubmissionDoc, SubmissionModels } from '../transfer/model.js';
import type { TransferListener } from '../transfer/events.js';
import type { EnrollmentEvent } from '../../xapi/recorder.js';
import type { DashboardCells } from './cells.js';

/**
 * `rep_summaries`: one document per enrollment (its `_id` is the enrollment's), the rollup every
 * dashboard reads. Events (progress, results logged, reinforcement answers) queue a refresh of the
 * rep's summary (`dashboards.refreshRep`, deduplicated per enrollment); the worker rebuilds it from
 * the enrollment, its submissions and the rep's reinforcement answers, and puts the rep's row in
 * the trainer dashboard's cells (cells.ts). `dashboards.refreshAll` rebuilds every summary every
 * six hours, catching what no event announces (a rep's new manager).
 */
export const REFRESH_JOB = 'dashboards.refreshRep';

/** What is stored in `rep_summaries`: everything but readiness, which has its own collection. */
export type StoredRollup = Omit<RepSummary, 'readiness'> & { refreshedAt: Date };

/**
 * `rep_readiness`: each enrollment's readiness with its working. Kept apart from the summaries
 * because it is nearly half of their size and only the readiness page and the coaching view need
 * it, while a summary lookup on FerretDB v1 decodes every summary whole (~1 ms each).
 */
export interface ReadinessDoc {
  _id: string;
  userId: string;
  versionId: string;
  readiness: RepSummary['readiness'];
  refreshedAt: Date;
}

const readinessSchema = new Schema<ReadinessDoc>(
  {
    _id: { type: String, required: true },
    userId: { type: String, required: true, index: true },
    versionId: { type: String, required: true },
    readiness: { type: Schema.Types.Mixed, default: null },
    refreshedAt: { type: Date, required: true },
  },
  { collection: 'rep_readiness', minimize: false, versionKey: false },
);

const schema = new Schema<StoredRollup>(
  {
    _id: { type: String, required: true },
    userId: { type: String, required: true, index: true },
    managerId: { type: String, default: null, index: true },
    cohort: { type: String, default: '' },
    curriculumId: { type: String, required: true, index: true },
    versionId: { type: String, required: true },
    startDate: { type: String, required: true },
    done: Number,
    total: Number,
    completed: Boolean,
    completedOn: { type: String, default: null },
    doneModules: [String],
    startedModules: [String],
    openDue: { type: Schema.Types.Mixed, default: [] },
    firstDue: { type: String, default: null },
    phases: { type: Schema.Types.Mixed, default: [] },
    scores: { type: Schema.Types.Mixed, default: {} },
    rubric: { type: Schema.Types.Mixed, default: {} },
    transfer: { type: Schema.Types.Mixed, default: {} },
    activity: { type: Schema.Types.Mixed, default: {} },
    retention: { type: Schema.Types.Mixed, default: {} },
    refreshedAt: { type: Date, required: true },
  },
  { collection: 'rep_summaries', minimize: false, versionKey: false },
);

export interface SummaryModels {
  RepSummary: Model<StoredRollup>;
  RepReadiness: Model<ReadinessDoc>;
}

export function summaryModels(conn: Connection): SummaryModels {
  return {
    RepSummary: (conn.models.RepSummary as SummaryModels['RepSummary']) ?? conn.model('RepSummary', schema),
    RepReadiness: (conn.models.RepReadiness as SummaryModels['RepReadiness']) ?? conn.model('RepReadiness', readinessSchema),
  };
}

/** Summaries with their readiness put back (what the coaching view, *My progress* and the readiness page read). */
export async function withReadiness(m: SummaryModels, rollups: StoredRollup[]): Promise<(RepSummary & { refreshedAt: Date })[]> {
  if (!rollups.length) return [];
  const ids = rollups.map((r) => r._id);
  const docs = await m.RepReadiness.find(ids.length === 1 ? { _id: ids[0] } : { _id: { $in: ids } }).lean<ReadinessDoc[]>();
  const byId = new Map(docs.map((d) => [d._id, d.readiness]));
  return rollups.map((r) => ({ ...r, readiness: byId.get(r._id) ?? null }));
}

export class RepSummaries {
  constructor(
    private readonly m: SummaryModels & EnrollmentModels & AccountModels & SubmissionModels & ReinforcementModels,
    private readonly cells: DashboardCells,
    private readonly curricula: CurriculumService,
    private readonly log: Logger,
  ) {}

  /** Rebuilds one enrollment's summary from its sources (idempotent; null when the enrollment is gone). */
  async refresh(enrollmentId: string): Promise<RepSummary | null> {
    if (!Types.ObjectId.isValid(enrollmentId)) return null;
    // where the rep's row is now: the cell to take it out of if they moved (another manager, cohort)
    const [e, was] = await Promise.all([
      this.m.Enrollment.findById(enrollmentId).lean<EnrollmentDoc>(),
      this.m.RepSummary.findById(enrollmentId, { curriculumId: 1, versionId: 1, cohort: 1, managerId: 1 }).lean<Pick<StoredRollup, 'curriculumId' | 'versionId' | 'cohort' | 'managerId'>>(),
    ]);
    if (!e) {
      // the row first, the summary last: a crash in between leaves the summary that says where the row is
      if (was) await this.cells.remove(enrollmentId, was);
      await Promise.all([this.m.RepSummary.deleteOne({ _id: enrollmentId }), this.m.RepReadiness.deleteOne({ _id: enrollmentId })]);
      return null;
    }
    const userId = new Types.ObjectId(String(e.userId));
    const [version, user, submissions, answers, deliveries] = await Promise.all([
      this.curricula.version(e.versionId),
      this.m.User.findById(userId, { managerId: 1 }).lean<{ managerId: Types.ObjectId | null }>(),
      this.m.Submission.find({ enrollmentId: e._id, resultsLoggedAt: { $ne: null } }, { moduleId: 1, results: 1, resultsLoggedAt: 1, resultsConfirmedAt: 1 }).lean<SubmissionDoc[]>(),
      this.m.Answer.find({ userId, curriculumId: e.curriculumId }, { moduleId: 1, correct: 1 }).lean<{ moduleId: string; correct: boolean }[]>(),
      this.m.Delivery.find({ userId }, { status: 1, slot: 1 }).sort({ slot: -1 }).limit(60).lean<{ status: 'open' | 'answered' | 'lapsed' }[]>(),
    ]);
    const content = version.content;
    const targets: Record<string, Record<string, number>> = {};
    for (const m of content.definition.modules) {
      const form = m.form ? content.forms[m.form] : undefined;
      if (form) targets[m.id] = Object.fromEntries(form.activityLog.fields.filter((f) => typeof (f as { target?: number }).target === 'number').map((f) => [f.id, (f as { target?: number }).target!]));
    }
    const retention: Record<string, { answered: number; correct: number }> = {};
    for (const a of answers) {
      const r = (retention[a.moduleId] ??= { answered: 0, correct: 0 });
      r.answered++;
      if (a.correct) r.correct++;
    }
    const summary = summarize({
      enrollment: { id: String(e._id), userId: String(e.userId), cohort: e.cohort, curriculumId: e.curriculumId, versionId: e.versionId, startDate: e.startDate, facts: e.facts, roadmap: e.roadmap },
      managerId: user?.managerId ? String(user.managerId) : null,
      curriculum: content.definition,
      results: Object.fromEntries(submissions.map((s) => [s.moduleId, { values: (s.results ?? {}) as Record<string, unknown>, confirmed: !!s.resultsConfirmedAt, loggedAt: s.resultsLoggedAt?.toISOString() ?? null }])),
      targets,
      retention,
      streak: streakOf(deliveries),
    });
    const { readiness, ...rollup } = summary;
    const refreshedAt = new Date();
    // the row first, the summary last (as above): a rerun after a crash moves the row again
    await this.cells.put(rollup, was, refreshedAt);
    await Promise.all([
      this.m.RepSummary.replaceOne({ _id: summary._id }, { ...rollup, refreshedAt }, { upsert: true }),
      this.m.RepReadiness.replaceOne({ _id: summary._id }, { userId: summary.userId, versionId: summary.versionId, readiness, refreshedAt }, { upsert: true }),
    ]);
    return summary;
  }

  /**
   * Every enrollment's summary and dashboard row, rebuilt (the periodic sweep, and `onramp
   * dashboards rebuild`); then the rows of enrollments that are gone are taken out of the cells.
   */
  async refreshAll(): Promise<number> {
    const ids = await this.m.Enrollment.find({}, { _id: 1 }).lean<{ _id: Types.ObjectId }[]>();
    let n = 0;
    let failed = 0;
    for (const { _id } of ids) {
      try {
        if (await this.refresh(String(_id))) n++;
      } catch (err) {
        failed++;
        this.log.error({ err, enrollmentId: String(_id) }, 'could not refresh a rep summary');
      }
    }
    // only after a clean pass: a row whose refresh failed is still a live enrollment's
    if (!failed) {
      const pruned = await this.cells.prune(new Set(ids.map(({ _id }) => String(_id))));
      if (pruned) this.log.info({ pruned }, 'took the rows of enrollments that are gone out of the dashboard cells');
    }
    return n;
  }
}

/**
 * Hears every event that changes a summary and queues its refresh. A burst of events for one rep
 * makes one job (deduplicated by enrollment; one more if the job is already running).
 */
export class SummaryRefresher implements EnrollmentListener, ReinforcementListener, TransferListener {
  constructor(
    private readonly queue: Queue,
    private readonly log: Logger,
  ) {}

  async request(enrollmentId: string): Promise<void> {
    try {
      await this.queue.add(REFRESH_JOB, { enrollmentId }, { delay: 500, deduplication: { id: `summary-${enrollmentId}`, keepLastIfActive: true } });
    } catch (err) {
      this.log.warn({ err, enrollmentId }, 'could not queue a rep summary refresh');
    }
  }

  async enrolled(e: EnrollmentEvent): Promise<void> {
    await this.request(e.enrollmentId);
  }

  async progressed(e: EnrollmentEvent): Promise<void> {
    await this.request(e.enrollmentId);
  }

  async answered(e: ReinforcementAnswer): Promise<void> {
    await this.request(e.event.enrollmentId);
  }

  async submitted(): Promise<void> {}

  async reviewed(): Promise<void> {}

  async resultsLogged(e: Parameters<TransferListener['resultsLogged']>[0]): Promise<void> {
    await this.request(String(e.view.enrollment._id));
  }
}
