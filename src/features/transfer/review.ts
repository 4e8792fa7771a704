import { Types } from 'mongoose';
import type { FormFile } from '../../content/schema.js';
import { requireAccess, type Actor } from '../../engine/access.js';
import { Conflict, NotFound, ValidationFailed, type FieldProblem } from '../../errors.js';
import type { Locker } from '../../infra/locks.js';
import type { AccountModels, UserDoc } from '../accounts/model.js';
import type { CurriculumService } from '../curricula/service.js';
import type { AuditLog } from '../audit/service.js';
import type { EnrollmentService, EnrollmentView } from '../enrollment/service.js';
import { TransferListeners } from './events.js';
import type { ReviewDelegates } from './delegates.js';
import { answerProblems, cleanAnswers, type Answers } from './answers.js';
import type { SubmissionDoc, SubmissionModels } from './model.js';

/** What the manager decided about one submitted version. */
export interface ReviewDecision {
  kind: 'approved' | 'returned' | 'edited-approved';
  version: number;
  by: Types.ObjectId;
  at: Date;
  /** step id → what to change (returned), or a note (approved) */
  comments: Record<string, string>;
  note: string;
}

export interface ReviewItem {
  submission: SubmissionDoc & { decisions: ReviewDecision[]; coaching: { metAt?: string; observedAt?: string }; results: Answers | null; resultsLoggedAt: Date | null; resultsConfirmedAt: Date | null };
  form: FormFile;
  rep: UserDoc;
  curriculumTitle: string;
  moduleTitle: string;
}

const MAX_COMMENT = 2000;

/** Counts of on-the-job results that cannot exceed another (contacts made on calls, and so on). */
const FUNNEL: [string, string, string][] = [
  ['contacts', 'calls', 'contacts cannot be more than calls'],
  ['presentations', 'contacts', 'presentations cannot be more than contacts'],
  ['appointments', 'contacts', 'appointments set cannot be more than contacts'],
];

/** Checks an activity log against the form's fields: whole numbers ≥ 0, booleans, the funnel. */
export function resultProblems(form: FormFile, input: unknown): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (!input || typeof input !== 'object' || Array.isArray(input)) return [{ path: 'results', message: 'must be an object of field id → value' }];
  const given = input as Record<string, unknown>;
  for (const f of form.activityLog.fields) {
    const v = given[f.id];
    if (f.type === 'boolean') {
      if (typeof v !== 'boolean') problems.push({ path: f.id, message: `${f.label}: answer yes or no` });
    } else if (f.type === 'number') {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) problems.push({ path: f.id, message: `${f.label}: a whole number, 0 or more` });
    } else if (f.required && (typeof v !== 'string' || !v.trim())) problems.push({ path: f.id, message: `${f.label}: required` });
  }
  for (const key of Object.keys(given)) if (!form.activityLog.fields.some((f) => f.id === key)) problems.push({ path: key, message: 'is not a field of this activity log' });
  if (!problems.length) {
    for (const [small, big, message] of FUNNEL) {
      const a = given[small];
      const b = given[big];
      if (typeof a === 'number' && typeof b === 'number' && a > b) problems.push({ path: small, message: `${message} (${a} > ${b})` });
    }
  }
  return problems;
}

/** The manager's words for the record: the note, then each section's comment. */
function commentText(form: FormFile, comments: Record<string, string>, note: string): string {
  const parts = Object.entries(comments).map(([id, text]) => `${form.steps.find((s) => s.id === id)?.title ?? id}: ${text}`);
  return [note, ...parts].filter(Boolean).join('\n');
}

/**
 * Transfer activities, the manager's side: the review queue, the decisions (approve, request
 * changes per section, or edit and approve: a new version the rep sees as a diff), the coaching
 * record, and confirming the rep's on-the-job results, which completes the module.
 */
export class ReviewService {
  constructor(
    private readonly m: SubmissionModels & AccountModels,
    private readonly curricula: CurriculumService,
    private readonly enrollments: EnrollmentService,
    private readonly locks: Locker,
    private readonly now: () => Date = () => new Date(),
    readonly events = new TransferListeners(),
    /** draws and keeps the approved version's PDF (the container wires the PDF pool and the archive) */
    private readonly approvedPdf?: (doc: SubmissionDoc, rep: UserDoc) => Promise<{ content: Buffer; sha2: string }>,
    private readonly delegates?: ReviewDelegates,
    /** decisions and confirmed results, recorded once made (fail open: a manager's review is never lost to the log) */
    private readonly audit?: AuditLog,
  ) {}

  private async recorded(actor: Actor, action: string, doc: SubmissionDoc, detail: Record<string, string | number | string[]>): Promise<void> {
    await this.audit?.recordAfter(actor, action, { type: 'submission', id: String(doc._id) }, { repId: String(doc.repId), moduleId: doc.moduleId, ...detail });
  }

  private async load(actor: Actor, submissionId: string): Promise<ReviewItem> {
    const doc = Types.ObjectId.isValid(submissionId) ? await this.m.Submission.findById(submissionId).lean<SubmissionDoc>() : null;
    if (!doc) throw new NotFound('No such submission.');
    return this.itemOf(actor, doc);
  }

  /** A fetched submission as the manager sees it, once it is checked they review it. */
  private async itemOf(actor: Actor, doc: SubmissionDoc): Promise<ReviewItem> {
    const rep = await this.m.User.findById(doc.repId).lean<UserDoc>();
    if (!rep) throw new NotFound('No such submission.');
    // only the rep's manager reviews, or the manager an admin set to review for them (else: as if it did not exist)
    const managerId = rep.managerId ? String(rep.managerId) : null;
    const delegate = managerId && this.delegates ? await this.delegates.delegateOf(managerId) : null;
    requireAccess(actor, 'reviews.manage', { userId: String(rep._id), managerId: delegate === actor.id ? actor.id : managerId });
    const version = await this.curricula.version(doc.versionId);
    const form = version.content.forms[doc.formId];
    if (!form) throw new NotFound(`The form '${doc.formId}' is missing from this curriculum version.`);
    const module = version.content.definition.modules.find((x) => x.id === doc.moduleId);
    return {
      submission: { ...doc, answers: doc.answers ?? {}, versions: doc.versions ?? [], decisions: doc.decisions ?? [], coaching: doc.coaching ?? {}, results: doc.results ?? null, resultsLoggedAt: doc.resultsLoggedAt ?? null, resultsConfirmedAt: doc.resultsConfirmedAt ?? null },
      form,
      rep,
      curriculumTitle: version.content.definition.title,
      moduleTitle: module?.title ?? doc.moduleId,
    };
  }

  /**
   * The manager's queue: submissions waiting for them, oldest first, then results to confirm. Only
   * those are read (not every submission they ever approved), each once; one whose rep has since
   * moved to another manager is left out.
   */
  async queue(actor: Actor): Promise<{ waiting: ReviewItem[]; results: ReviewItem[] }> {
    requireAccess(actor, 'reviews.manage');
    const managers = this.delegates ? await this.delegates.reviewsFor(actor.id) : [actor.id];
    const mine = { managerId: { $in: managers.map((id) => new Types.ObjectId(id)) } };
    const [waitingDocs, resultDocs] = await Promise.all([
      this.m.Submission.find({ ...mine, status: 'submitted' }).lean<SubmissionDoc[]>(),
      this.m.Submission.find({ ...mine, status: 'approved', resultsLoggedAt: { $ne: null }, resultsConfirmedAt: null }).lean<SubmissionDoc[]>(),
    ]);
    const visible = async (docs: SubmissionDoc[]) => {
      const items: ReviewItem[] = [];
      for (const d of docs) {
        try {
          items.push(await this.itemOf(actor, d));
        } catch (err) {
          if (!(err instanceof NotFound)) throw err; // out of scope now (the rep changed manager): not theirs to review
        }
      }
      return items;
    };
    const waiting = (await visible(waitingDocs)).sort((a, b) => a.submission.submittedAt!.getTime() - b.submission.submittedAt!.getTime());
    return { waiting, results: await visible(resultDocs) };
  }

  async get(actor: Actor, submissionId: string): Promise<ReviewItem> {
    return this.load(actor, submissionId);
  }

  private async change(submissionId: string, expectStatus: SubmissionDoc['status'][], update: object): Promise<void> {
    await this.locks.withLock(`submission:${submissionId}`, async () => {
      const res = await this.m.Submission.updateOne({ _id: submissionId, status: { $in: expectStatus } }, update);
      if (!res.modifiedCount) throw new Conflict('This submission changed meanwhile (another window?). Reload the page and decide again.');
    });
  }

  private async fact(doc: SubmissionDoc, status: SubmissionDoc['status'], at: Date): Promise<EnrollmentView> {
    return this.enrollments.applyEvent(doc.enrollmentId, (facts) => {
      facts.submissions[doc.moduleId] = { status, at: at.toISOString() };
      return facts;
    });
  }

  private async told(actor: Actor, item: ReviewItem, view: EnrollmentView, decision: 'approved' | 'returned', at: Date, version: number, comment: string, adjusted: boolean): Promise<void> {
    const manager = await this.m.User.findById(actor.id).lean<UserDoc>();
    // the approved version as a PDF, kept with the submission and attached to the statement; a
    // failure to draw it does not undo the approval (the PDF can still be downloaded, drawn anew)
    let pdf: { content: Buffer; sha2: string } | undefined;
    if (decision === 'approved' && this.approvedPdf) {
      const fresh = await this.m.Submission.findById(item.submission._id).lean<SubmissionDoc>();
      pdf = fresh ? await this.approvedPdf({ ...fresh, versions: fresh.versions ?? [], answers: fresh.answers ?? {} }, item.rep).catch(() => undefined) : undefined;
    }
    const submitted = item.submission.versions.filter((v) => v.kind === 'rep').at(-1)?.n ?? version;
    await this.events.tell((l) =>
      l.reviewed({
        view,
        moduleId: item.submission.moduleId,
        form: { id: item.form.id, title: item.form.title },
        submissionId: String(item.submission._id),
        at: at.toISOString(),
        decision,
        version,
        submittedVersion: submitted,
        manager: { id: actor.id, name: manager?.name ?? 'Manager', email: manager?.email },
        comment,
        adjusted,
        ...(pdf ? { pdf } : {}),
      }),
    );
  }

  /**
   * The manager's decision on the submitted version: approve (with a note), return with a comment
   * on at least one section, or approve an edited text (a new version, kept beside the rep's).
   */
  async decide(actor: Actor, submissionId: string, input: { action: string; comments?: Record<string, unknown>; note?: unknown; answers?: unknown }): Promise<ReviewItem> {
    const item = await this.load(actor, submissionId);
    const doc = item.submission;
    if (doc.status !== 'submitted') throw new Conflict(doc.status === 'returned' ? 'You asked for changes: the rep is revising it.' : doc.status === 'approved' ? 'You approved this already.' : 'The rep has not submitted this yet.');
    const version = doc.versions.at(-1)!.n;
    const note = typeof input.note === 'string' ? input.note.trim() : '';
    const problems: FieldProblem[] = [];
    if (note.length > MAX_COMMENT) problems.push({ path: 'note', message: `at most ${MAX_COMMENT} characters` });
    const comments: Record<string, string> = {};
    for (const [stepId, v] of Object.entries(input.comments ?? {})) {
      if (!item.form.steps.some((s) => s.id === stepId)) problems.push({ path: `comments.${stepId}`, message: 'is not a section of this form' });
      else if (typeof v === 'string' && v.trim()) {
        if (v.length > MAX_COMMENT) problems.push({ path: `comments.${stepId}`, message: `at most ${MAX_COMMENT} characters` });
        comments[stepId] = v.trim();
      }
    }
    const now = this.now();
    const by = new Types.ObjectId(actor.id);
    if (input.action === 'return') {
      if (!Object.keys(comments).length) problems.push({ path: 'comments', message: 'say what to change in at least one section' });
      if (problems.length) throw new ValidationFailed(problems);
      await this.change(submissionId, ['submitted'], { $set: { status: 'returned' }, $push: { decisions: { kind: 'returned', version, by, at: now, comments, note } }, $inc: { rev: 1 } });
      await this.recorded(actor, 'review.return', doc, { version, commented: Object.keys(comments) });
      const view = await this.fact(doc, 'returned', now);
      await this.told(actor, item, view, 'returned', now, version, commentText(item.form, comments, note), false);
    } else if (input.action === 'approve') {
      if (problems.length) throw new ValidationFailed(problems);
      await this.change(submissionId, ['submitted'], { $set: { status: 'approved', approvedAt: now }, $push: { decisions: { kind: 'approved', version, by, at: now, comments, note } }, $inc: { rev: 1 } });
      await this.recorded(actor, 'review.approve', doc, { version, commented: Object.keys(comments) });
      const view = await this.fact(doc, 'approved', now);
      await this.told(actor, item, view, 'approved', now, version, commentText(item.form, comments, note), false);
    } else if (input.action === 'edit') {
      problems.push(...answerProblems(item.form, input.answers, { complete: true }));
      if (problems.length) throw new ValidationFailed(problems);
      const answers = cleanAnswers(item.form, input.answers as Answers);
      const n = version + 1;
      await this.change(submissionId, ['submitted'], {
        $set: { status: 'approved', approvedAt: now, answers },
        $push: { versions: { n, answers, by, kind: 'manager-edit', at: now }, decisions: { kind: 'edited-approved', version: n, by, at: now, comments, note } },
        $inc: { rev: 1 },
      });
      // which sections the manager rewrote, never what they wrote
      const edited = item.form.steps.filter((st) => st.fields.some((f) => JSON.stringify(answers[f.id]) !== JSON.stringify(doc.versions.at(-1)!.answers[f.id]))).map((st) => st.id);
      await this.recorded(actor, 'review.edit', doc, { version: n, editedFrom: version, edited, commented: Object.keys(comments) });
      const view = await this.fact(doc, 'approved', now);
      await this.told(actor, item, view, 'approved', now, n, commentText(item.form, comments, note), true);
    } else {
      throw new ValidationFailed([{ path: 'action', message: 'must be approve, return or edit' }]);
    }
    return this.load(actor, submissionId);
  }

  /** The manager met the rep about it / observed their calls, on these days (YYYY-MM-DD). */
  async coaching(actor: Actor, submissionId: string, input: { metAt?: unknown; observedAt?: unknown }): Promise<ReviewItem> {
    await this.load(actor, submissionId);
    const problems: FieldProblem[] = [];
    const day = (v: unknown, path: string) => {
      if (v === undefined || v === '') return undefined;
      if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(v))) problems.push({ path, message: 'must be a date (YYYY-MM-DD)' });
      else if (Date.parse(v) > this.now().getTime()) problems.push({ path, message: 'cannot be in the future' });
      return typeof v === 'string' ? v : undefined;
    };
    const metAt = day(input.metAt, 'metAt');
    const observedAt = day(input.observedAt, 'observedAt');
    if (problems.length) throw new ValidationFailed(problems);
    const set: Record<string, string> = {};
    if (metAt) set['coaching.metAt'] = metAt;
    if (observedAt) set['coaching.observedAt'] = observedAt;
    if (Object.keys(set).length) await this.locks.withLock(`submission:${submissionId}`, () => this.m.Submission.updateOne({ _id: submissionId }, { $set: set }));
    return this.load(actor, submissionId);
  }

  /** The manager confirms the results the rep logged: the module completes. */
  async confirmResults(actor: Actor, submissionId: string): Promise<ReviewItem> {
    const item = await this.load(actor, submissionId);
    const doc = item.submission;
    if (doc.status !== 'approved' || !doc.resultsLoggedAt) throw new Conflict('There are no logged results to confirm yet.');
    if (doc.resultsConfirmedAt) return item;
    const now = this.now();
    const confirmed = await this.locks.withLock(`submission:${submissionId}`, () => this.m.Submission.updateOne({ _id: submissionId, resultsConfirmedAt: null }, { $set: { resultsConfirmedAt: now, resultsConfirmedBy: new Types.ObjectId(actor.id) } }));
    if (confirmed.modifiedCount) await this.recorded(actor, 'review.results.confirm', doc, {});
    await this.enrollments.applyEvent(doc.enrollmentId, (facts) => {
      facts.resultsLogged[doc.moduleId] ??= now.toISOString();
      return facts;
    });
    return this.load(actor, submissionId);
  }
}

/** The rep logs on-the-job results for an approved submission (the manager confirms them). */
export async function logResults(m: SubmissionModels, locks: Locker, form: FormFile, doc: SubmissionDoc & { resultsConfirmedAt?: Date | null }, input: unknown, now: Date): Promise<void> {
  if (doc.status !== 'approved') throw new Conflict('Log your results once your manager has approved your work.');
  if (doc.resultsConfirmedAt) throw new Conflict('Your manager has confirmed these results: they can no longer be changed.');
  const problems = resultProblems(form, input);
  if (problems.length) throw new ValidationFailed(problems);
  await locks.withLock(`submission:${String(doc._id)}`, () => m.Submission.updateOne({ _id: doc._id, status: 'approved' }, { $set: { results: input, resultsLoggedAt: now } }));
}

