import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import {
  attemptWindow,
  deadline as deadlineOf,
  drawAttempt,
  modulesToReview,
  policyScore,
  presentForRep,
  reviewAfterSubmit,
  scoreAttempt,
  testOuts,
  validateAnswers,
  type Answers,
  type AttemptWindow,
  type Banks,
  type PresentedItem,
  type ReviewItem,
} from '../../engine/assessment.js';
import { requireAccess, type Actor } from '../../engine/access.js';
import type { AssessmentDef, ModuleDef } from '../../engine/curriculum.js';
import { Conflict, GateLocked, NotFound, ValidationFailed } from '../../errors.js';
import type { Locker } from '../../infra/locks.js';
import type { CurriculumService } from '../curricula/service.js';
import type { EnrollmentService, EnrollmentView } from '../enrollment/service.js';
import { readAnswers, storeAnswers, type AssessmentModels, type AttemptDoc } from './model.js';
import type { AttemptEvent, EnrollmentEvent } from '../../xapi/recorder.js';

/** Ends timed attempts that nobody comes back to (a delayed job in the worker). */
export interface AttemptTimer {
  expireAt(attemptId: string, at: Date): Promise<void>;
}

/** Who hears about attempts (the xAPI recorder); told after the attempt is saved. */
export interface AttemptListener {
  attemptStarted(e: EnrollmentEvent & { module: ModuleDef; attempt: { id: string; number: number; startedAt: string } }): Promise<void>;
  attemptSubmitted(e: AttemptEvent): Promise<void>;
}

/** Seconds allowed for an answer sent just before the deadline to arrive. */
const GRACE_SECONDS = 5;

export interface AttemptSummary {
  id: string;
  number: number;
  status: AttemptDoc['status'];
  startedAt: string;
  deadline: string | null;
  submittedAt: string | null;
  submittedBy: AttemptDoc['submittedBy'];
  percent: number | null;
  passed: boolean | null;
  testedOut: string[];
}

export interface AssessmentOverview {
  module: ModuleDef;
  def: AssessmentDef;
  questionCount: number;
  attempts: AttemptSummary[];
  current: AttemptSummary | null;
  /** the score that counts, under the assessment's score policy */
  score: number | null;
  passed: boolean;
  window: AttemptWindow;
}

/** What the rep's browser gets for one attempt: questions without answers before submission. */
export interface AttemptForRep {
  attempt: AttemptSummary;
  enrollmentId: string;
  module: ModuleDef;
  def: AssessmentDef;
  /** before submission only */
  items: PresentedItem[];
  answers: Answers;
  /** after submission, when the assessment reveals answers */
  review: ReviewItem[] | null;
  /** after submission: the modules behind missed questions */
  toReview: { id: string; title: string }[];
  window: AttemptWindow | null;
}

function summary(a: AttemptDoc): AttemptSummary {
  return {
    id: String(a._id),
    number: a.number,
    status: a.status,
    startedAt: a.startedAt.toISOString(),
    deadline: a.deadline ? a.deadline.toISOString() : null,
    submittedAt: a.submittedAt ? a.submittedAt.toISOString() : null,
    submittedBy: a.submittedBy,
    percent: a.percent,
    passed: a.passed,
    testedOut: a.testedOut ?? [],
  };
}

/** How many questions an attempt asks: each pool's draw, or all its matching questions. */
function questionCount(def: AssessmentDef, banks: Banks): number {
  return def.pools.reduce((n, pool) => {
    const matching = (banks[pool.bank]?.questions ?? []).filter((q) => !pool.tags?.length || q.tags.some((t) => pool.tags!.includes(t))).length;
    return n + Math.min(pool.draw ?? matching, matching);
  }, 0);
}

export class AssessmentService {
  private listener: AttemptListener | undefined;

  listen(listener: AttemptListener): void {
    this.listener = listener;
  }

  constructor(
    private readonly m: AssessmentModels,
    private readonly curricula: CurriculumService,
    private readonly enrollments: EnrollmentService,
    private readonly locks: Locker,
    private readonly timer: AttemptTimer,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private async context(actor: Actor, enrollmentId: string, moduleId: string) {
    const { view, module, status } = await this.enrollments.module(actor, enrollmentId, moduleId);
    if (module.modality !== 'assessment' || !module.assessment) throw new NotFound(`'${module.title}' is not an assessment.`);
    return { view, module, status, def: module.assessment };
  }

  private async banks(versionId: string): Promise<Banks> {
    return (await this.curricula.version(versionId)).content.banks as unknown as Banks;
  }

  private async submittedAttempts(enrollmentId: Types.ObjectId | string, moduleId: string): Promise<AttemptDoc[]> {
    return this.m.Attempt.find({ enrollmentId: new Types.ObjectId(String(enrollmentId)), moduleId, status: 'submitted' }).sort({ number: 1 }).lean<AttemptDoc[]>();
  }

  private window(def: AssessmentDef, submitted: AttemptDoc[], passed: boolean): AttemptWindow {
    return attemptWindow({
      maxAttempts: def.maxAttempts,
      cooldownHours: def.cooldownHours,
      submittedAt: submitted.map((a) => a.submittedAt!.toISOString()),
      now: this.now().toISOString(),
      passed,
    });
  }

  /** The assessment as the module page shows it: attempts so far, the score that counts, whether another may start. */
  async overview(actor: Actor, enrollmentId: string, moduleId: string): Promise<AssessmentOverview> {
    const { view, module, def } = await this.context(actor, enrollmentId, moduleId);
    await this.expireOverdue(view.enrollment._id, moduleId);
    const all = await this.m.Attempt.find({ enrollmentId: view.enrollment._id, moduleId }).sort({ number: 1 }).lean<AttemptDoc[]>();
    const submitted = all.filter((a) => a.status === 'submitted');
    const score = policyScore(def.scorePolicy, submitted.map((a) => a.percent ?? 0));
    const passed = score !== null && score >= def.threshold;
    const current = all.find((a) => a.status === 'in_progress');
    return {
      module,
      def,
      questionCount: questionCount(def, await this.banks(view.enrollment.versionId)),
      attempts: all.map(summary),
      current: current ? summary(current) : null,
      score,
      passed,
      window: this.window(def, submitted, passed),
    };
  }

  /**
   * Starts an attempt (or resumes the one in progress): the server draws the questions and keeps
   * them. Refused while the module is locked, after the last attempt, or within the cooldown.
   */
  async start(actor: Actor, enrollmentId: string, moduleId: string): Promise<string> {
    requireAccess(actor, 'learning.take');
    const { view, module, status, def } = await this.context(actor, enrollmentId, moduleId);
    if (view.rep.id !== actor.id) throw new NotFound('No such enrollment.');
    if (status.state === 'locked') throw new GateLocked(`'${module.title}' is locked.`, status.reasons);
    const key = `attempts:${enrollmentId}:${moduleId}`;
    const attempt = await this.locks.withLock(key, async (): Promise<{ id: string; number: number; startedAt: string; fresh?: true }> => {
      const open = await this.m.Attempt.findOne({ enrollmentId: view.enrollment._id, moduleId, status: 'in_progress' }).lean<AttemptDoc>();
      if (open && !this.expired(open)) return { id: String(open._id), number: open.number, startedAt: open.startedAt.toISOString() };
      if (open) await this.finalize(open, 'time-limit');
      const submitted = await this.submittedAttempts(view.enrollment._id, moduleId);
      const score = policyScore(def.scorePolicy, submitted.map((a) => a.percent ?? 0));
      const window = this.window(def, submitted, score !== null && score >= def.threshold);
      if (!window.canStart) throw new Conflict(window.reason ?? 'You cannot start another attempt now.');
      const now = this.now();
      const seed = randomUUID();
      const end = deadlineOf(now.toISOString(), def.timeLimitMinutes);
      const doc = await this.m.Attempt.create({
        enrollmentId: view.enrollment._id,
        userId: new Types.ObjectId(view.rep.id),
        curriculumId: view.enrollment.curriculumId,
        versionId: view.enrollment.versionId,
        moduleId,
        number: submitted.length + 1,
        seed,
        drawn: drawAttempt(def, await this.banks(view.enrollment.versionId), seed),
        answers: [],
        status: 'in_progress',
        startedAt: now,
        deadline: end ? new Date(end) : null,
      });
      if (end) await this.timer.expireAt(String(doc._id), new Date(end));
      return { id: String(doc._id), number: doc.number, startedAt: now.toISOString(), fresh: true };
    });
    await this.enrollments.applyEvent(view.enrollment._id, (facts) => {
      if (facts.started[moduleId]) return null;
      facts.started[moduleId] = this.now().toISOString();
      return facts;
    });
    const { fresh, ...started } = attempt;
    if (fresh) await this.listener?.attemptStarted({ ...this.enrollments.eventOf(view), module, attempt: started });
    return started.id;
  }

  /** Past its time limit (with a few seconds' grace for an answer on the wire). */
  private expired(a: AttemptDoc): boolean {
    return a.status === 'in_progress' && a.deadline !== null && this.now().getTime() > a.deadline.getTime() + GRACE_SECONDS * 1000;
  }

  private async expireOverdue(enrollmentId: Types.ObjectId, moduleId: string): Promise<void> {
    const open = await this.m.Attempt.findOne({ enrollmentId, moduleId, status: 'in_progress' }).lean<AttemptDoc>();
    if (open && this.expired(open)) await this.locks.withLock(`attempts:${String(enrollmentId)}:${moduleId}`, () => this.finalizeById(String(open._id), 'time-limit'));
  }

  private async own(actor: Actor, attemptId: string): Promise<AttemptDoc> {
    const a = Types.ObjectId.isValid(attemptId) ? await this.m.Attempt.findById(attemptId).lean<AttemptDoc>() : null;
    // Trainers and managers see attempts through reports, not this path: only the rep's own.
    if (!a || String(a.userId) !== actor.id) throw new NotFound('No such attempt.');
    return a;
  }

  /** One attempt for the rep: the questions (never their answers) before submission, the result after. */
  async forRep(actor: Actor, attemptId: string): Promise<AttemptForRep> {
    requireAccess(actor, 'learning.take');
    let attempt = await this.own(actor, attemptId);
    if (this.expired(attempt)) attempt = await this.locks.withLock(this.lockKey(attempt), () => this.finalizeById(attemptId, 'time-limit'));
    const { view, module, def } = await this.context(actor, String(attempt.enrollmentId), attempt.moduleId);
    const banks = await this.banks(attempt.versionId);
    if (attempt.status === 'in_progress') {
      return { attempt: summary(attempt), enrollmentId: String(attempt.enrollmentId), module, def, items: presentForRep(attempt.drawn, banks), answers: readAnswers(attempt.answers), review: null, toReview: [], window: null };
    }
    const submitted = await this.submittedAttempts(attempt.enrollmentId, attempt.moduleId);
    const score = policyScore(def.scorePolicy, submitted.map((a) => a.percent ?? 0));
    const passedOverall = score !== null && score >= def.threshold;
    const reveal = def.revealAnswers === 'after-submit' || (def.revealAnswers === 'after-pass' && attempt.passed === true);
    const titles = new Map(view.curriculum.modules.map((m) => [m.id, m.title]));
    return {
      attempt: summary(attempt),
      enrollmentId: String(attempt.enrollmentId),
      module,
      def,
      items: [],
      answers: readAnswers(attempt.answers),
      review: reveal ? reviewAfterSubmit(attempt.drawn, banks, attempt.score!) : null,
      toReview: modulesToReview(attempt.score!).map((id) => ({ id, title: titles.get(id) ?? id })),
      window: this.window(def, submitted, passedOverall),
    };
  }

  private lockKey(a: AttemptDoc): string {
    return `attempts:${String(a.enrollmentId)}:${a.moduleId}`;
  }

  private async checkedAnswers(a: AttemptDoc, raw: Record<string, unknown>): Promise<Answers> {
    const problems = validateAnswers(a.drawn, await this.banks(a.versionId), raw);
    if (problems.length) throw new ValidationFailed(problems);
    return raw as Answers;
  }

  /** Saves answers so far (a reload or another device resumes from them). */
  async save(actor: Actor, attemptId: string, raw: Record<string, unknown>): Promise<AttemptSummary> {
    requireAccess(actor, 'learning.take');
    const first = await this.own(actor, attemptId);
    return this.locks.withLock(this.lockKey(first), async () => {
      const a = await this.own(actor, attemptId);
      if (a.status === 'submitted') throw new Conflict('This attempt has been submitted: its answers can no longer change.');
      if (this.expired(a)) {
        await this.finalizeById(attemptId, 'time-limit');
        throw new Conflict('Time is up: the attempt was scored with the answers saved before the limit.');
      }
      const answers = storeAnswers({ ...readAnswers(a.answers), ...(await this.checkedAnswers(a, raw)) });
      await this.m.Attempt.updateOne({ _id: a._id, status: 'in_progress' }, { $set: { answers }, $inc: { rev: 1 } });
      return summary({ ...a, answers });
    });
  }

  /**
   * Submits and scores. Submitting twice is harmless (the first result stands), and every submit
   * re-applies the result to the enrollment, so a crash between the two writes heals on retry.
   */
  async submit(actor: Actor, attemptId: string, raw?: Record<string, unknown>): Promise<AttemptSummary> {
    requireAccess(actor, 'learning.take');
    const first = await this.own(actor, attemptId);
    return this.locks.withLock(this.lockKey(first), async () => {
      const a = await this.own(actor, attemptId);
      if (a.status === 'submitted') {
        await this.applyToEnrollment(a);
        return summary(a);
      }
      if (this.expired(a)) return summary(await this.finalizeById(attemptId, 'time-limit'));
      const answers = raw ? storeAnswers({ ...readAnswers(a.answers), ...(await this.checkedAnswers(a, raw)) }) : a.answers;
      return summary(await this.finalize({ ...a, answers }, 'rep'));
    });
  }

  /** The worker's timer: scores an attempt left open past its time limit. Callers hold no lock. */
  async expire(attemptId: string): Promise<void> {
    const a = Types.ObjectId.isValid(attemptId) ? await this.m.Attempt.findById(attemptId).lean<AttemptDoc>() : null;
    if (!a || a.status === 'submitted') return;
    await this.locks.withLock(this.lockKey(a), async () => {
      const fresh = await this.m.Attempt.findById(attemptId).lean<AttemptDoc>();
      if (fresh && this.expired(fresh)) await this.finalize(fresh, 'time-limit');
    });
  }

  private async finalizeById(attemptId: string, by: 'rep' | 'time-limit'): Promise<AttemptDoc> {
    const a = await this.m.Attempt.findById(attemptId).lean<AttemptDoc>();
    if (!a) throw new NotFound('No such attempt.');
    return a.status === 'submitted' ? a : this.finalize(a, by);
  }

  /** Scores the attempt as it stands (caller holds the attempt's lock), then updates the enrollment. */
  private async finalize(a: AttemptDoc, by: 'rep' | 'time-limit'): Promise<AttemptDoc> {
    const version = await this.curricula.version(a.versionId);
    const module = version.content.definition.modules.find((m) => m.id === a.moduleId);
    if (!module?.assessment) throw new NotFound('No such assessment.');
    const def = module.assessment;
    const score = scoreAttempt(a.drawn, version.content.banks as unknown as Banks, readAnswers(a.answers), { partialCredit: def.partialCredit });
    const passed = score.percent >= def.threshold;
    const now = this.now();
    // A timed-out attempt is dated at its deadline: that is when its answers were final.
    const submittedAt = by === 'time-limit' && a.deadline ? a.deadline : now;
    const done: Partial<AttemptDoc> = {
      answers: a.answers,
      status: 'submitted',
      submittedAt,
      submittedBy: by,
      score,
      percent: score.percent,
      passed,
      testedOut: def.purpose === 'pretest' ? testOuts(def, score) : [],
    };
    await this.m.Attempt.updateOne({ _id: a._id, status: 'in_progress' }, { $set: done, $inc: { rev: 1 } });
    const saved = { ...a, ...done } as AttemptDoc;
    const view = await this.applyToEnrollment(saved);
    await this.listener?.attemptSubmitted({
      ...this.enrollments.eventOf(view),
      module,
      attempt: { id: String(a._id), number: a.number, startedAt: a.startedAt.toISOString(), submittedAt: submittedAt.toISOString(), earned: score.earned, possible: score.possible, percent: score.percent, passed, testedOut: saved.testedOut },
    });
    return saved;
  }

  /** The enrollment's facts from every submitted attempt: the score that counts, and test-outs. */
  private async applyToEnrollment(a: AttemptDoc): Promise<EnrollmentView> {
    const submitted = await this.submittedAttempts(a.enrollmentId, a.moduleId);
    const version = await this.curricula.version(a.versionId);
    const def = version.content.definition.modules.find((m) => m.id === a.moduleId)!.assessment!;
    const counted = policyScore(def.scorePolicy, submitted.map((s) => s.percent ?? 0));
    const last = submitted.at(-1);
    return this.enrollments.applyEvent(a.enrollmentId, (facts) => {
      let changed = false;
      if (counted !== null && last) {
        const at = last.submittedAt!.toISOString();
        const current = facts.scores[a.moduleId];
        if (!current || current.best !== counted || current.at !== at) {
          facts.scores[a.moduleId] = { best: counted, at };
          changed = true;
        }
      }
      for (const s of submitted) {
        for (const m of s.testedOut ?? []) {
          if (!facts.testedOut[m] && !facts.completed[m]) {
            facts.testedOut[m] = s.submittedAt!.toISOString();
            changed = true;
          }
        }
      }
      return changed ? facts : null;
    });
  }
}
