import { Types } from 'mongoose';
import type { FormFile } from '../../content/schema.js';
import { requireAccess, type Actor } from '../../engine/access.js';
import type { ModuleDef } from '../../engine/curriculum.js';
import { Conflict, NotFound, ValidationFailed } from '../../errors.js';
import type { Locker } from '../../infra/locks.js';
import type { AccountService } from '../accounts/service.js';
import type { CurriculumService } from '../curricula/service.js';
import type { EnrollmentService, EnrollmentView } from '../enrollment/service.js';
import { addBusinessDays, answerProblems, cleanAnswers, type Answers } from './answers.js';
import type { SubmissionDoc, SubmissionModels } from './model.js';
import { logResults } from './review.js';
import { TransferListeners } from './events.js';

/** Empty arrays and objects may be left out of stored documents: read them back as empty. */
function withDefaults(doc: SubmissionDoc): SubmissionDoc {
  return { ...doc, answers: doc.answers ?? {}, versions: doc.versions ?? [] };
}

export interface Workspace {
  view: EnrollmentView;
  module: ModuleDef;
  form: FormFile;
  submission: SubmissionDoc;
}

/**
 * Transfer activities, the rep's side: the guided builder's draft (autosaved, revision-guarded),
 * and submitting it for the manager's review. The enrollment's facts follow every status change,
 * so the roadmap shows "awaiting review" and the module gates on approval.
 */
export class TransferService {
  constructor(
    private readonly m: SubmissionModels,
    private readonly curricula: CurriculumService,
    private readonly enrollments: EnrollmentService,
    private readonly accounts: AccountService,
    private readonly locks: Locker,
    private readonly now: () => Date = () => new Date(),
    readonly events = new TransferListeners(),
  ) {}

  private async formOf(versionId: string, module: ModuleDef): Promise<FormFile> {
    if (module.modality !== 'transfer' || !module.form) throw new Conflict(`'${module.title}' is not a transfer activity.`);
    const version = await this.curricula.version(versionId);
    const form = version.content.forms[module.form];
    if (!form) throw new NotFound(`The form '${module.form}' is missing from this curriculum version.`);
    return form;
  }

  private async setFact(enrollmentId: Types.ObjectId | string, moduleId: string, status: SubmissionDoc['status'], at: Date): Promise<EnrollmentView> {
    return this.enrollments.applyEvent(enrollmentId, (facts) => {
      const have = facts.submissions[moduleId];
      if (have?.status === status) return null;
      facts.submissions[moduleId] = { status, at: at.toISOString() };
      facts.started[moduleId] ??= at.toISOString();
      return facts;
    });
  }

  /** The rep's builder: their draft for the module, created on first visit. Locked modules refuse. */
  async workspace(actor: Actor, enrollmentId: string, moduleId: string): Promise<Workspace> {
    requireAccess(actor, 'learning.take');
    const view = await this.enrollments.open(actor, enrollmentId, moduleId); // the rep's own, not locked
    const module = view.curriculum.modules.find((m) => m.id === moduleId)!;
    const form = await this.formOf(view.enrollment.versionId, module);
    const now = this.now();
    await this.m.Submission.updateOne(
      { enrollmentId: view.enrollment._id, moduleId },
      {
        $setOnInsert: {
          formId: form.id,
          versionId: view.enrollment.versionId,
          repId: new Types.ObjectId(view.rep.id),
          managerId: view.rep.managerId ? new Types.ObjectId(view.rep.managerId) : null,
          status: 'draft',
          answers: {},
          rev: 0,
          savedAt: now,
          versions: [],
          submittedAt: null,
          reviewDueAt: null,
        },
      },
      { upsert: true },
    );
    const submission = withDefaults((await this.m.Submission.findOne({ enrollmentId: view.enrollment._id, moduleId }).lean<SubmissionDoc>())!);
    if (submission.status === 'draft' && !view.enrollment.facts.submissions[moduleId]) await this.setFact(view.enrollment._id, moduleId, 'draft', now);
    return { view, module, form, submission };
  }

  private async mine(actor: Actor, submissionId: string): Promise<SubmissionDoc> {
    requireAccess(actor, 'learning.take');
    const doc = Types.ObjectId.isValid(submissionId) ? await this.m.Submission.findById(submissionId).lean<SubmissionDoc>() : null;
    if (!doc || String(doc.repId) !== actor.id) throw new NotFound('No such submission.');
    return withDefaults(doc);
  }

  private static editable(doc: SubmissionDoc): void {
    if (doc.status === 'submitted') throw new Conflict('This is with your manager for review: it can be changed again if they ask for changes.');
    if (doc.status === 'approved') throw new Conflict('Your manager approved this: it can no longer be changed.');
  }

  /**
   * Autosave: replaces the draft when `rev` is the stored revision (a stale tab or a replayed save
   * gets a conflict naming the current one instead of overwriting newer work).
   */
  async saveDraft(actor: Actor, submissionId: string, input: { rev: unknown; answers: unknown }): Promise<{ rev: number; savedAt: string }> {
    const doc = await this.mine(actor, submissionId);
    TransferService.editable(doc);
    const form = await this.formFor(doc);
    const problems = answerProblems(form, input.answers, { complete: false });
    if (typeof input.rev !== 'number' || !Number.isInteger(input.rev) || input.rev < 0) problems.push({ path: 'rev', message: 'must be the revision the draft was loaded at' });
    if (problems.length) throw new ValidationFailed(problems);
    const answers = cleanAnswers(form, input.answers as Answers);
    return this.locks.withLock(`submission:${submissionId}`, async () => {
      const now = this.now();
      const res = await this.m.Submission.updateOne(
        { _id: doc._id, rev: input.rev as number, status: { $in: ['draft', 'returned'] } },
        { $set: { answers, savedAt: now }, $inc: { rev: 1 } },
      );
      if (!res.modifiedCount) {
        const current = await this.m.Submission.findById(doc._id).lean<SubmissionDoc>();
        if (current) TransferService.editable(current);
        throw new Conflict(`This draft was saved from another window (now at revision ${current?.rev ?? '?'}). Reload to continue from the latest version.`);
      }
      return { rev: (input.rev as number) + 1, savedAt: now.toISOString() };
    });
  }

  private async formFor(doc: SubmissionDoc): Promise<FormFile> {
    const version = await this.curricula.version(doc.versionId);
    const form = version.content.forms[doc.formId];
    if (!form) throw new NotFound(`The form '${doc.formId}' is missing from this curriculum version.`);
    return form;
  }

  /** The rep logs on-the-job results once the manager approved the work; the manager confirms them. */
  async logResults(actor: Actor, submissionId: string, input: unknown): Promise<void> {
    const doc = await this.mine(actor, submissionId);
    const form = await this.formFor(doc);
    const at = this.now();
    await logResults(this.m, this.locks, form, doc, input, at);
    const view = await this.enrollments.view(actor, String(doc.enrollmentId));
    const manager = doc.managerId ? await this.accounts.findActive(String(doc.managerId)) : undefined;
    await this.events.tell((l) =>
      l.resultsLogged({ view, moduleId: doc.moduleId, form: { id: form.id, title: form.title }, submissionId, at: at.toISOString(), results: input as Answers, manager: manager ? { id: manager.id, name: manager.name, email: manager.email } : null }),
    );
  }

  /** Submits the draft for review: every required field answered, a manager to review it. */
  async submit(actor: Actor, submissionId: string): Promise<SubmissionDoc> {
    const doc = await this.mine(actor, submissionId);
    TransferService.editable(doc);
    const form = await this.formFor(doc);
    const problems = answerProblems(form, doc.answers, { complete: true });
    if (problems.length) throw new ValidationFailed(problems);
    // the manager now (an admin may have set or changed it since the draft was started)
    const rep = await this.accounts.findActive(String(doc.repId));
    const managerId = rep?.managerId ? new Types.ObjectId(String(rep.managerId)) : null;
    if (!managerId) throw new Conflict('You have no manager in Onramp yet, so there is nobody to review this. Ask an admin to set your manager, then submit again.');
    const now = this.now();
    const updated = await this.locks.withLock(`submission:${submissionId}`, async () => {
      const n = (doc.versions ?? []).length + 1;
      const res = await this.m.Submission.updateOne(
        { _id: doc._id, rev: doc.rev, status: doc.status },
        {
          $set: { status: 'submitted', submittedAt: now, managerId, reviewDueAt: addBusinessDays(now, form.review.dueBusinessDays) },
          $push: { versions: { n, answers: doc.answers, by: doc.repId, kind: 'rep', at: now } },
          $inc: { rev: 1 },
        },
      );
      if (!res.modifiedCount) throw new Conflict('This draft changed while you were submitting it. Check it and submit again.');
      return withDefaults((await this.m.Submission.findById(doc._id).lean<SubmissionDoc>())!);
    });
    const view = await this.setFact(doc.enrollmentId, doc.moduleId, 'submitted', now);
    const manager = await this.accounts.findActive(String(managerId));
    await this.events.tell((l) =>
      l.submitted({ view, moduleId: doc.moduleId, form: { id: form.id, title: form.title }, submissionId, at: now.toISOString(), version: updated.versions.at(-1)!.n, manager: manager ? { id: manager.id, name: manager.name, email: manager.email } : null }),
    );
    return updated;
  }
}
