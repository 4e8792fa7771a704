import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareLocalRun } from '../../src/features/demo/prepare.js';
import { DEMO_SCRIPT_MODULE, seedDemoSubmissions } from '../../src/features/demo/submissions.js';
import type { EnrollmentDoc } from '../../src/features/enrollment/model.js';
import { answerProblems, addBusinessDays } from '../../src/features/transfer/answers.js';
import type { SubmissionDoc } from '../../src/features/transfer/model.js';
import { createLogger } from '../../src/infra/logger.js';
import { createTestContext, type TestContext } from '../support/context.js';

/** The demo seed creates the transfer submissions its reps' facts describe. */
const CONTENT = join(import.meta.dirname, '..', '..', 'content');
let ctx: TestContext;
const people: Record<string, { id: string; managerId: string | null }> = {};

async function submissionOf(rep: string): Promise<SubmissionDoc> {
  const doc = await ctx.container.models.Submission.findOne({ repId: people[rep]!.id, moduleId: DEMO_SCRIPT_MODULE }).lean<SubmissionDoc>();
  expect(doc, `${rep}'s submission`).toBeTruthy();
  return doc!;
}

async function formOf(doc: SubmissionDoc) {
  return (await ctx.container.curricula.version(doc.versionId)).content.forms[doc.formId]!;
}

beforeAll(async () => {
  ctx = await createTestContext({ CONTENT_DIR: CONTENT, DEMO_SEED: 'true' });
  const run = await prepareLocalRun(ctx.container.mongo, ctx.config, createLogger(ctx.config));
  expect(run.seededUsers).toBe(true);
  for (const u of await ctx.container.accounts.list({ id: 'test', role: 'admin' })) people[u.email.split('@')[0]!] = u;
});
afterAll(() => ctx?.close());

describe('demo submissions', () => {
  it('puts rep3’s complete script in manager1’s review queue, and not in manager2’s', async () => {
    const doc = await submissionOf('rep3');
    const enrollment = await ctx.container.models.Enrollment.findById(doc.enrollmentId).lean<EnrollmentDoc>();
    expect(doc).toMatchObject({ status: 'submitted', formId: 'appointment-script', moduleId: 'appointment-script', versionId: enrollment!.versionId });
    expect(String(doc.managerId)).toBe(people.manager1!.id);
    expect(doc.submittedAt!.toISOString()).toBe(enrollment!.facts.submissions[DEMO_SCRIPT_MODULE]!.at);
    expect(doc.reviewDueAt!.getTime()).toBe(addBusinessDays(doc.submittedAt!, 3).getTime());
    expect(doc.versions.map((v) => [v.n, v.kind])).toEqual([[1, 'rep']]);

    const form = await formOf(doc);
    expect(answerProblems(form, doc.answers, { complete: true })).toEqual([]);
    expect(answerProblems(form, doc.versions[0]!.answers, { complete: true })).toEqual([]);
    for (const { field } of form.steps.flatMap((step) => step.fields.map((field) => ({ field })))) expect(doc.answers[field.id], field.id).toBeTruthy();

    const queue = await ctx.container.reviews.queue({ id: people.manager1!.id, role: 'manager' });
    expect(queue.waiting.map((i) => String(i.submission._id))).toEqual([String(doc._id)]);
    const other = await ctx.container.reviews.queue({ id: people.manager2!.id, role: 'manager' });
    expect(other.waiting).toEqual([]);
    expect(other.results).toEqual([]); // rep4's results are confirmed already
  });

  it('opens rep3’s builder on the submitted script, not an empty draft', async () => {
    const enrollmentId = String((await submissionOf('rep3')).enrollmentId);
    const ws = await ctx.container.transfer.workspace({ id: people.rep3!.id, role: 'rep' }, enrollmentId, DEMO_SCRIPT_MODULE);
    expect(ws.submission.status).toBe('submitted');
    expect(ws.submission.answers.persona).toBeTruthy();
  });

  it('gives rep4 an approved script (returned once) with confirmed results', async () => {
    const doc = await submissionOf('rep4');
    const enrollment = await ctx.container.models.Enrollment.findById(doc.enrollmentId).lean<EnrollmentDoc>();
    const facts = enrollment!.facts;
    expect(facts.submissions[DEMO_SCRIPT_MODULE]!.status).toBe('approved');
    expect(doc.status).toBe('approved');
    expect(String(doc.managerId)).toBe(people.manager2!.id);
    expect(doc.versions.map((v) => [v.n, v.kind])).toEqual([[1, 'rep'], [2, 'rep']]);
    expect(doc.decisions!.map((d) => [d.kind, d.version])).toEqual([['returned', 1], ['approved', 2]]);
    expect(Object.keys(doc.decisions![0]!.comments)).toEqual(['opening']);
    expect(doc.decisions![1]!.note).not.toBe('');
    expect(doc.versions[0]!.answers.opening).not.toBe(doc.versions[1]!.answers.opening);
    expect(doc.approvedAt!.toISOString()).toBe(facts.submissions[DEMO_SCRIPT_MODULE]!.at);
    expect(doc.coaching?.metAt).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(doc.coaching?.observedAt).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(doc.results).toEqual({ metWithManager: true, calls: 54, contacts: 19, presentations: 9, appointments: 7 });
    expect(doc.resultsLoggedAt!.toISOString()).toBe(facts.resultsLogged[DEMO_SCRIPT_MODULE]);
    expect(doc.resultsConfirmedAt!.getTime() - doc.resultsLoggedAt!.getTime()).toBe(86_400_000);
    const form = await formOf(doc);
    for (const v of doc.versions) expect(answerProblems(form, v.answers, { complete: true })).toEqual([]);
  });

  it('changes nothing when seeding again', async () => {
    const before = await ctx.container.models.Submission.find().sort({ _id: 1 }).lean<SubmissionDoc[]>();
    expect(before).toHaveLength(2);
    await prepareLocalRun(ctx.container.mongo, ctx.config, createLogger(ctx.config));
    // and the documents' own upsert, given the same facts again
    const enrollments = await ctx.container.models.Enrollment.find().lean<EnrollmentDoc[]>();
    const again = await seedDemoSubmissions(
      ctx.container.models,
      enrollments.map((e) => {
        const rep = Object.values(people).find((p) => p.id === String(e.userId))!;
        return { enrollment: e, repId: rep.id, managerId: rep.managerId, submission: e.facts.submissions[DEMO_SCRIPT_MODULE], resultsLogged: e.facts.resultsLogged[DEMO_SCRIPT_MODULE] };
      }),
    );
    expect(again).toBe(0);
    expect(await ctx.container.models.Submission.find().sort({ _id: 1 }).lean<SubmissionDoc[]>()).toEqual(before);
  });
});
